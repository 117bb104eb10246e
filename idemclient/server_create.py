"""``openstack server create --client-token``: servers as an idempotent Kind.

OSC's own command still does all the work (argument parsing, name lookups,
``--wait``, output). For one invocation its compute proxy's
``create_server`` is replaced by a call that goes through ``run_once``; the
server gets a tag derived from the token and a metadata item holding the
request's fingerprint, which is what a retry from any host finds.
"""

from osc_lib import exceptions

from idemclient import client as api
from idemclient import fingerprint as fp
from idemclient import idempotent
from idemclient import token as tokens

OPERATION = 'server.create'
FINGERPRINT_KEY = 'idemclient:params'


class ServerKind:
    noun = 'server'

    def __init__(self, client, create, kwargs, request):
        self.client = client
        self._create = create
        self._kwargs = kwargs
        self._request = request

    @staticmethod
    def _sdk_server(body):
        from openstack.compute.v2 import server as sdk_server
        return sdk_server.Server.existing(**body)

    def _ids(self, servers, first=None):
        ordered = sorted(servers, key=lambda s: (s.get('created') or '',
                                                 s.get('name') or '',
                                                 s['id']))
        ids = [s['id'] for s in ordered]
        if first in ids:
            ids.remove(first)
            ids.insert(0, first)
        return ids

    def bind(self, entry):
        return None

    def find(self, request):
        servers = self.client.servers_by_tag(request.marker)
        if not servers:
            return None
        ids = self._ids(servers)
        first = next(s for s in servers if s['id'] == ids[0])
        recorded = (first.get('metadata') or {}).get(FINGERPRINT_KEY)
        return idempotent.Found(self._sdk_server(first), ids,
                                fp.Fingerprint.decode(recorded)
                                if recorded else None)

    def fetch(self, resource_ids):
        body = self.client.get_server(resource_ids[0])
        return self._sdk_server(body) if body else None

    def send(self, entry):
        request = self._request
        kwargs = dict(self._kwargs)
        tags = list(kwargs.get('tags') or [])
        tags.append(request.marker)
        if request.task_tag and request.client_token is not None:
            tags.append(tokens.derive_tag(request.scope, request.task_tag,
                                          prefix='task'))
        kwargs['tags'] = tags
        metadata = dict(kwargs.get('metadata') or {})
        metadata[FINGERPRINT_KEY] = request.fingerprint.encode()
        kwargs['metadata'] = metadata
        try:
            server, response = self.client.guarded_create(
                lambda: self._create(**kwargs), entry.request_id,
                request.client_token)
        except Exception as exc:  # SDK or keystoneauth: translate once
            raise api.sdk_error(exc)
        ids = [server.id]
        if (kwargs.get('max_count') or 1) > 1:
            ids = self._ids(self.client.servers_by_tag(request.marker),
                            first=server.id)
        return server, ids, api.response_request_id(response)


def request_for(scope, kwargs, client_token, task_tag):
    """The Request for these create arguments (fingerprint over what OSC
    resolved: flavor and image ids, networks, counts...)."""
    if client_token is not None:
        marker = tokens.derive_tag(scope, client_token)
    else:
        marker = tokens.derive_tag(scope, task_tag, prefix='task')
    return idempotent.Request(OPERATION, scope, fp.Fingerprint.of(kwargs),
                              marker, client_token, task_tag,
                              target=kwargs.get('name'))


def idempotent_create_server(app, compute, create, journal_path, scope_of,
                             client_token, task_tag, say):
    """What replaces ``compute.create_server`` for one invocation."""

    def create_server(**kwargs):
        client = api.ComputeClient(compute)
        if not client.supports(api.TAGS_AT_CREATE_MICROVERSION):
            raise exceptions.CommandError(
                'Client tokens and task tags need compute API %s or later '
                '(server tags at create time); this cloud or the pinned '
                '--os-compute-api-version does not allow it. Nothing was '
                'sent.' % api.TAGS_AT_CREATE_MICROVERSION)
        request = request_for(scope_of(), kwargs, client_token, task_tag)
        kind = ServerKind(client, create, kwargs, request)
        return idempotent.run_once(journal_path, request, kind, say)

    return create_server
