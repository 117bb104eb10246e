"""The Nova calls idemclient needs, one method per REST call.

The client wraps the keystoneauth Adapter OSC already holds for the service
(the openstacksdk proxy), so it shares its session, token and endpoint
discovery.
"""

from idemclient.clients import base
from idemclient.clients import errors
from idemclient.clients.errors import request_id_of
from idemclient.clients.errors import sdk_error

# Below 2.26 Nova silently ignores ?tags= and returns every server: a lookup
# sent at an older microversion would adopt somebody else's server.
TAG_FILTER_MICROVERSION = '2.26'
# Tags can be set at create time from 2.52.
TAGS_AT_CREATE_MICROVERSION = '2.52'
# Keypair type in responses from 2.2; ?user_id= from 2.10.
KEYPAIR_MICROVERSION = '2.10'
# Keypair lists take limit and marker from 2.35.
KEYPAIR_LIST_MICROVERSION = '2.35'
# Instance action events: shown to non-admins from 2.51, with a "details"
# message from 2.84; older clouds still list the actions.
ACTION_MICROVERSIONS = ('2.84', '2.51', '2.21')


class ComputeClient(base.ServiceClient):
    """The Nova calls idemclient needs, one method per REST call."""

    def __init__(self, adapter):
        super().__init__(adapter)
        self._detail_version = None

    def _get(self, url, what, microversion, params=None):
        return self._call('GET', url, what, microversion, params=params)

    @staticmethod
    def _has_next(body, key):
        return bool(body.get(key + '_links'))

    def supports(self, microversion):
        """Whether both the cloud and any pinned version allow it."""
        from openstack import utils
        return utils.supports_microversion(self.adapter, microversion)

    def servers_by_tag(self, tag):
        """Servers of the caller's project carrying exactly ``tag``."""
        return self.tag_listing(tag).servers

    def tag_listing(self, tag):
        """``servers_by_tag`` with Nova's clock at the time (a Listing).

        ``GET /servers/detail?tags=`` at 2.26 (and every page of it); each
        server's own tag list is checked again, because filter values are
        not validated by Nova and tags may compare without case.
        """
        return self._servers({'tags': tag}, {tag})

    def servers_by_any_tag(self, tags):
        """Servers carrying any of ``tags`` (``tags-any``, one request per
        page for the whole batch)."""
        return self.any_tag_listing(tags).servers

    def any_tag_listing(self, tags):
        return self._servers({'tags-any': ','.join(sorted(tags))}, set(tags))

    def _detail_microversion(self):
        """Server bodies as the SDK's own GET returns them, so that a listed
        body can stand in for OSC's refresh of a new server (flavor details
        embedded from 2.47); never below 2.26, where ?tags= works."""
        if self._detail_version is None:
            from openstack.compute.v2 import server as sdk_server
            from openstack import utils
            try:
                best = getattr(self.adapter, 'default_microversion',
                               None) or utils.maximum_supported_microversion(
                    self.adapter, sdk_server.Server._max_microversion)
            except Exception:  # no version document: the filter's own
                best = None
            if not best or base.version(best) < base.version(
                    TAG_FILTER_MICROVERSION):
                best = TAG_FILTER_MICROVERSION
            self._detail_version = best
        return self._detail_version

    def _servers(self, params, wanted):
        """A Listing of the servers carrying any of ``wanted``, with
        Nova's clock (``Date``) at the first page."""
        from idemclient.core import converge
        servers, date = [], None
        for response, page in self._pages(
                '/servers/detail', 'Cannot list servers', 'servers', params,
                microversion=self._detail_microversion()):
            if date is None:
                date = converge.http_date(response.headers.get('Date'))
            servers.extend(s for s in page
                           if wanted.intersection(s.get('tags') or []))
        return converge.Listing(servers, date)

    def delete_server(self, server_id):
        """Delete a server; one already gone is not an error."""
        try:
            self._call('DELETE', '/servers/%s' % server_id,
                       'Cannot delete server %s' % server_id, '2.1')
        except errors.ApiError as exc:
            if exc.status_code != 404:
                raise

    def get_server(self, server_id):
        """The server, or None if it no longer exists."""
        return self._shown('/servers/%s' % server_id,
                           'Cannot show server %s' % server_id, 'server',
                           microversion=TAG_FILTER_MICROVERSION)

    def _best(self, microversions):
        return next((mv for mv in microversions if self.supports(mv)),
                    microversions[-1])

    def find_server(self, name_or_id):
        """A server by name or ID, as OSC resolves it."""
        try:
            server = self.adapter.find_server(name_or_id,
                                              ignore_missing=False)
        except Exception as exc:
            raise sdk_error(exc)
        return server.id

    def port_ids(self, server_id):
        """The ids of the server's ports (its interface attachments, as
        Nova knows them from Neutron); [] when it has none or is gone."""
        try:
            body = self._get('/servers/%s/os-interface' % server_id,
                             'Cannot list the ports of server %s'
                             % server_id, '2.1').json()
        except errors.ApiError as exc:
            if exc.status_code == 404:
                return []
            raise
        return sorted(a['port_id'] for a in
                      body.get('interfaceAttachments') or ())

    def instance_actions(self, server_id):
        """The server's actions, newest first (no events)."""
        return self._get('/servers/%s/os-instance-actions' % server_id,
                         'Cannot list the actions of server %s' % server_id,
                         self._best(ACTION_MICROVERSIONS)
                         ).json()['instanceActions']

    def instance_action(self, server_id, request_id):
        """One action with its events."""
        return self._get(
            '/servers/%s/os-instance-actions/%s' % (server_id, request_id),
            'Cannot show action %s of server %s' % (request_id, server_id),
            self._best(ACTION_MICROVERSIONS)).json()['instanceAction']

    def volume_attachments(self, server_id):
        return self._get('/servers/%s/os-volume_attachments' % server_id,
                         'Cannot list the volumes of server %s' % server_id,
                         '2.1').json()['volumeAttachments']

    def add_server_tag(self, server_id, tag):
        self._call('PUT', '/servers/%s/tags/%s' % (server_id, tag),
                   'Cannot tag server %s' % server_id,
                   TAG_FILTER_MICROVERSION)

    def remove_server_tag(self, server_id, tag):
        self._call('DELETE', '/servers/%s/tags/%s' % (server_id, tag),
                   'Cannot untag server %s' % server_id,
                   TAG_FILTER_MICROVERSION)

    def swap_volume(self, server_id, old_volume_id, new_volume_id,
                    request_id):
        """Ask Nova to swap an attached volume; Nova's request id.

        Sent once: like a create, a swap is repeated only after a lookup.
        """
        response = self._call(
            'PUT', '/servers/%s/os-volume_attachments/%s'
            % (server_id, old_volume_id),
            'Cannot swap volume %s of server %s' % (old_volume_id,
                                                    server_id), '2.1',
            json={'volumeAttachment': {'volumeId': new_volume_id}},
            global_request_id=request_id, connect_retries=0,
            status_code_retries=0)
        return request_id_of(response)

    def get_keypair(self, name, user_id=None):
        """The keypair, or None if the name is free."""
        params = {'user_id': user_id} if user_id else None
        return self._shown('/os-keypairs/%s' % name,
                           'Cannot show keypair %s' % name, 'keypair',
                           microversion=KEYPAIR_MICROVERSION, params=params)

    def keypairs(self):
        """The caller's keypairs with their public keys (every page)."""
        microversion = KEYPAIR_LIST_MICROVERSION if self.supports(
            KEYPAIR_LIST_MICROVERSION) else '2.2'
        return [entry['keypair'] for entry in self._listed(
            '/os-keypairs', 'Cannot list keypairs', 'keypairs',
            marker_of=lambda entry: entry['keypair']['name'],
            microversion=microversion)]
