"""The Cinder calls idemclient needs, one method per REST call."""

import json

from idemclient.clients import base
from idemclient.clients.errors import ApiError
from idemclient.clients.errors import sdk_error


# From here a filter Cinder does not allow is refused, not dropped.
FILTER_MICROVERSION = '3.31'


class BlockStorageClient(base.ServiceClient):
    """The Cinder calls idemclient needs, one method per REST call."""

    # The newest volume microversion idemclient was tested with (Cinder 29's
    # maximum).
    MAX_MICROVERSION = '3.71'

    def __init__(self, adapter):
        super().__init__(adapter)
        self._microversion = False  # not negotiated yet
        self._filters_allowed = True  # until the cloud refuses one

    def microversion(self):
        """The version every call is sent at: min(cloud's maximum, ours).

        The backup reset action, and the show and name lookup around it,
        exist unchanged since 3.0, so any version works; taking the cloud's
        own maximum, capped at the newest one tested, never asks for more
        than the cloud has (OSC's ``volume backup set --state`` always
        sends 3.64: a 406 on Victoria and older) nor for a future version
        whose answers idemclient has not seen. Read from the version
        document keystoneauth discovers once per command; None (no header)
        for a cloud without microversions.
        """
        if self._microversion is False:
            try:
                data = self.adapter.get_endpoint_data()
            except Exception as exc:
                raise sdk_error(exc)
            cloud_max = data.max_microversion if data else None
            if not cloud_max or cloud_max[0] != 3:
                self._microversion = None
            else:
                ours = tuple(int(n) for n in self.MAX_MICROVERSION.split('.'))
                best = min(tuple(cloud_max[:2]), ours)
                self._microversion = '%d.%d' % best
        return self._microversion

    def supports(self, microversion):
        """Whether the version every call is sent at is at least this."""
        ours = self.microversion()
        return ours is not None and \
            base.version(ours) >= base.version(microversion)

    def with_metadata(self, collection, key, value):
        """The caller's ``collection`` items (volumes, snapshots) whose
        metadata has ``key`` = ``value``.

        ``GET /<collection>/detail?metadata={...}``: only from 3.31 does
        Cinder refuse a filter it does not allow (400) instead of dropping
        it and listing everything, so callers check ``supports(FILTER)``
        first; each item's metadata is checked again here all the same.

        Where the cloud does not let the caller filter on metadata (a
        member, on a Cinder whose ``resource_query_filters_file`` is
        missing or leaves ``metadata`` out), the project's items are read,
        newest first, every page, and matched here; this client then asks
        no more.
        """
        return self.filtered(collection, {'metadata': json.dumps(
            {key: value})}, lambda item: (item.get('metadata') or {}).get(
                key) == value)

    def filtered(self, collection, filters, keep):
        """The ``collection`` items ``keep`` accepts, listed with
        ``filters`` where the cloud lets the caller use them, else among
        all of the project's (newest first; this client then asks no
        more). ``keep`` alone must tell the items wanted."""
        if self._filters_allowed:
            try:
                return self.listed(collection, filters, keep)
            except ApiError as exc:
                if not _filter_refused(exc):
                    raise
                self._filters_allowed = False
        return self.listed(collection, {'sort': 'created_at:desc'}, keep)

    def volumes_with_metadata(self, key, value):
        return self.with_metadata('volumes', key, value)

    def volumes(self):
        """Every volume of the caller's project (every page)."""
        return self.listed('volumes')

    def listed(self, collection, params=None, keep=None):
        """Every page of ``GET /<collection>/detail`` (``params`` are
        filters), keeping what ``keep`` accepts."""
        return self._listed('/%s/detail' % collection,
                            'Cannot list %s' % collection, collection,
                            params, keep)

    @staticmethod
    def _has_next(body, key):
        return bool(body.get(key + '_links'))

    def get_volume(self, volume_id):
        """The volume, or None if it no longer exists."""
        return self.get('volumes', volume_id)

    def get(self, collection, item_id):
        """One item (a volume, snapshot, backup), or None if it is gone."""
        return self._shown('/%s/%s' % (collection, item_id),
                           'Cannot show %s %s' % (collection[:-1], item_id),
                           collection[:-1])

    def messages_about(self, resource_id):
        """Cinder's user messages about a resource (why it failed), newest
        first; [] where the cloud has none (below 3.3)."""
        if not self.supports('3.3'):
            return []
        try:
            messages = self._call('GET', '/messages', 'Cannot list messages',
                                  params={'resource_uuid': resource_id}
                                  ).json()['messages']
        except ApiError:
            return []
        return sorted(messages, key=lambda m: m.get('created_at') or '',
                      reverse=True)

    def get_backup(self, backup_id):
        return self._call('GET', '/backups/%s' % backup_id,
                          'Cannot show backup %s' % backup_id).json()['backup']

    def find_backup(self, name_or_id):
        """A backup's ID by ID, else by name (exactly one must match). A
        UUID is only an ID: its 404 is the cloud's own answer."""
        try:
            return self.get_backup(name_or_id)['id']
        except ApiError as exc:
            if exc.status_code != 404 or _looks_like_uuid(name_or_id):
                raise
        found = self._call('GET', '/backups', 'Cannot list backups',
                           params={'name': name_or_id}).json()['backups']
        found = [b for b in found if b.get('name') == name_or_id]
        if not found:
            raise ApiError('No backup with a name or ID of %r exists.'
                           % name_or_id)
        if len(found) > 1:
            raise ApiError('More than one backup is named %r; use its ID.'
                           % name_or_id)
        return found[0]['id']

    def reset_backup_state(self, backup_id, state):
        """Ask Cinder to set the backup's status (202: applied later, by
        cinder-backup)."""
        self._call('POST', '/backups/%s/action' % backup_id,
                   'Cannot reset backup %s' % backup_id,
                   json={'os-reset_status': {'status': state}})

    def find_volume(self, name_or_id):
        """A volume's ID by name or ID; an unknown UUID is passed on as
        it is (Nova checks it; it may know volumes this Cinder does
        not list, and a member's name filter may be refused)."""
        if _looks_like_uuid(name_or_id):
            try:
                return self.adapter.get_volume(name_or_id).id
            except Exception as exc:
                if getattr(exc, 'status_code', None) == 404:
                    return name_or_id
                raise sdk_error(exc)
        try:
            volume = self.adapter.find_volume(name_or_id,
                                              ignore_missing=True)
        except Exception as exc:
            raise sdk_error(exc)
        if volume is not None:
            return volume.id
        if _looks_like_uuid(name_or_id):
            return name_or_id
        raise ApiError('No volume with a name or ID of %r exists.'
                       % name_or_id, 404)


def _filter_refused(exc):
    """Cinder's 400 for a list filter the caller may not use: "Invalid
    filters metadata are found in query options."."""
    return exc.status_code == 400 and 'invalid filters' in str(exc).lower()


def _looks_like_uuid(text):
    import uuid
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False
