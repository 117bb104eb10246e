"""A volume swap as an idempotent request: the server's tag says it was
sent, so a repeat with the same task tag sends nothing (see
``core.idempotent``)."""


from idemclient.clients import errors
from idemclient.core import idempotent
from idemclient.core import token as tokens
from idemclient import tasks

NOT_ALLOWED = (
    'Nova allows volume swaps only to the service role (policy '
    '"os_compute_api:os-volumes-attachments:swap"), which Cinder uses to '
    'migrate volumes; ask your cloud administrator, or use "openstack '
    'volume migrate". Nothing was changed.')


class SwapKind:
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
        return None if self.compute.get_server(resource_ids[0]) is None \
            else 'known'

    def send(self, entry):
        # The marker tells any host the swap was sent; the id tag lets
        # "task show <id>" find it from any host.
        markers = (entry.marker, tokens.id_tag(tasks.SWAP, entry.uuid))
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
