"""A volume swap as an idempotent request: the server's tag says it was
sent, so a repeat with the same task tag sends nothing (see
``core.idempotent``); its task is the server's ``swap_volume`` instance
action, found by the tag from any host."""

from idemclient.clients import errors
from idemclient import contract
from idemclient.core import idempotent
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.observation import action_state
from idemclient.observation import instance_action
from idemclient.observation import Observation

OPERATION = registry.SWAP.operation

NOT_ALLOWED = (
    'Nova allows volume swaps only to the service role (policy '
    '"os_compute_api:os-volumes-attachments:swap"), which Cinder uses to '
    'migrate volumes; ask your cloud administrator, or use "openstack '
    'volume migrate". Nothing was changed.')


class SwapKind(contract.Kind):
    """A volume swap as an idempotent request (see ``idempotent``)."""

    noun = 'server'
    already = ('{label}: that request is already accepted (volume swap on '
               'server {id}); nothing was sent.')

    def __init__(self, compute, server_id, old_id, new_id):
        self.compute = compute
        self.server_id, self.old_id, self.new_id = server_id, old_id, new_id

    def bind(self, entry):
        return None

    def find(self, request):
        """The server's tag says the swap was sent; otherwise the old
        volume must still be attached (checked before anything is
        recorded or sent)."""
        server = self.compute.get_server(self.server_id)
        if server and request.marker in (server.get('tags') or []):
            return idempotent.Found(None, [self.server_id])
        check_attached(self.compute, self.server_id, self.old_id)
        return None

    def fetch(self, resource_ids):
        return self.compute.get_server(resource_ids[0])

    def send(self, entry):
        # The marker tells any host the swap was sent; the id tag lets
        # "task show <id>" find it from any host.
        markers = (entry.marker, tokens.id_tag(OPERATION, entry.uuid))
        for marker in markers:
            self.compute.add_server_tag(self.server_id, marker)
        try:
            request_id = swap(self.compute, self.server_id, self.old_id,
                              self.new_id, entry.request_id)
        except errors.ApiError as exc:
            if exc.status_code and 400 <= exc.status_code < 500:
                for marker in markers:
                    self.compute.remove_server_tag(self.server_id, marker)
            raise
        return None, [self.server_id], request_id


def check_attached(compute, server_id, volume_id):
    attached = [a['volumeId'] for a in compute.volume_attachments(server_id)]
    if volume_id not in attached:
        raise errors.Refused(
            'Volume %s is not attached to server %s. Nothing was sent.'
            % (volume_id, server_id))


def swap(compute, server_id, old_id, new_id, request_id):
    try:
        return compute.swap_volume(server_id, old_id, new_id, request_id)
    except errors.ApiError as exc:
        if exc.status_code == 403:
            raise errors.ApiError(NOT_ALLOWED, 403, exc.request_id)
        raise


def swap_marker(scope, task_tag):
    """The tag a tracked swap puts on its server."""
    return tokens.derive_tag(scope, task_tag, prefix='swap')


def observe_swap(compute, server_id, request_id=None, since=None):
    """The swap's state from its instance action; None: none yet."""
    server = compute.get_server(server_id)
    if server is None:
        return Observation('deleted', [server_id],
                           'Server %s no longer exists.' % server_id)
    action = instance_action(compute, server_id, 'swap_volume', request_id,
                             since)
    if action is None:
        return None
    state, error = action_state(action)
    return Observation(state, [server_id], error, action)


class SwapTasks(contract.Tasks):

    target_is_resource = True

    def observe(self, entry, clients):
        if entry.state == 'failed':
            return Observation('failed', entry.resource_ids, entry.error)
        return observe_swap(clients.compute, entry.target,
                            entry.response_request_id, entry.created_at)

    # A swap's markers are server tags, as a create's are: both are
    # looked up in one request by ``kinds.server_tasks``, with ``among``.


def among(compute, servers, marker, task_id=None):
    """(operation, observation, task id) of the swaps whose server, among
    ``servers``, carries ``marker``."""
    return [(OPERATION, observe_swap(compute, server['id']) or
             Observation('not-found', [server['id']]), task_id)
            for server in servers if marker in (server.get('tags') or [])]


TASKS = SwapTasks()
