"""``openstack server volume swap``: Nova's volume swap, trackable as a task.

OSC has no swap command. With ``--task-tag`` the swap is journaled before it
is sent, its server gets a tag derived from the task tag (so another host
finds it), and ``openstack task show --tag`` reports its start, end or error
from Nova's ``swap_volume`` instance action: the client-side counterpart of
the ``instance.volume_swap.start/end/error`` notifications of seed 003.
"""

import time

from osc_lib.cli import format_columns
from osc_lib.command import command
from osc_lib import exceptions

from idemclient import client as api
from idemclient import output
from idemclient import fingerprint as fp
from idemclient import hooks
from idemclient import idempotent
from idemclient import tasks
from idemclient import token as tokens

NOT_ALLOWED = (
    'Nova allows volume swaps only to the service role (policy '
    '"os_compute_api:os-volumes-attachments:swap"), which Cinder uses to '
    'migrate volumes; ask your cloud administrator, or use "openstack '
    'volume migrate". Nothing was changed.')
WAIT_SECONDS = 600


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
        except api.ApiError as exc:
            if exc.status_code and 400 <= exc.status_code < 500:
                for marker in markers:
                    self.compute.remove_server_tag(self.server_id, marker)
            raise
        return None, [self.server_id], request_id


def check_attached(compute, server_id, volume_id):
    attached = [a['volumeId'] for a in compute.volume_attachments(server_id)]
    if volume_id not in attached:
        raise exceptions.CommandError(
            'Volume %s is not attached to server %s. Nothing was sent.'
            % (volume_id, server_id))


def swap(compute, server_id, old_id, new_id, request_id):
    try:
        return compute.swap_volume(server_id, old_id, new_id, request_id)
    except api.ApiError as exc:
        if exc.status_code == 403:
            raise api.ApiError(NOT_ALLOWED, 403, exc.request_id)
        raise


class SwapServerVolume(command.ShowOne):
    """Swap a volume attached to a server for another volume."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('server', metavar='<server>',
                            help='Server (name or ID)')
        parser.add_argument('old_volume', metavar='<old-volume>',
                            help='Attached volume to swap out (name or ID)')
        parser.add_argument('new_volume', metavar='<new-volume>',
                            help='Volume to swap in (name or ID)')
        parser.add_argument('--task-tag', metavar='<tag>',
                            help='Journal the swap and tag its server, so '
                            '"openstack task show --tag <tag>" reports its '
                            'start, end or error; the same tag again does '
                            'not swap twice')
        parser.add_argument('--wait', action='store_true',
                            help='Wait for the swap to end')
        return parser

    def say(self, message):
        output.say(self.app, message)

    def take_action(self, parsed_args):
        tag = parsed_args.task_tag
        if tag is not None:
            try:
                tokens.validate(tag, 'task tag')
            except tokens.InvalidToken as exc:
                raise exceptions.CommandError('%s. Nothing was sent.' % exc)
        manager = self.app.client_manager
        compute = api.ComputeClient(manager.compute)
        try:
            server_id, old_id, new_id = self._resolve(compute, manager,
                                                      parsed_args)
            if tag is None:
                check_attached(compute, server_id, old_id)
                request_id = swap(compute, server_id, old_id, new_id, None)
                entry = None
            else:
                scope = hooks.scope_of(self.app, manager.compute)
                request = idempotent.Request(
                    tasks.SWAP, scope, fp.Fingerprint.of(
                        {'server': server_id, 'old_volume': old_id,
                         'new_volume': new_id}),
                    tasks.swap_marker(scope, tag), task_tag=tag,
                    target=server_id)
                idempotent.run_once(
                    hooks.journal_path(self.app), request,
                    SwapKind(compute, server_id, old_id, new_id), self.say)
                request_id, entry = None, self._entry(request)
            observation = self._observe(compute, server_id, request_id,
                                        entry, parsed_args.wait)
        except api.ApiError as exc:
            raise exceptions.CommandError(str(exc))
        fields = tasks.view(entry, observation, time.time(), tag=tag,
                            operation=tasks.SWAP)
        fields.update(old_volume=old_id, new_volume=new_id,
                      request_id=fields['request_id'] or request_id)
        fields['events'] = format_columns.ListDictColumn(fields['events'])
        columns = tasks.COLUMNS[:5] + ('old_volume', 'new_volume') + \
            tasks.COLUMNS[5:]
        return columns, tuple(fields[c] for c in columns)

    def _resolve(self, compute, manager, parsed_args):
        """Server, old and new volume IDs. Whether the old volume is still
        attached is checked only before sending: after a swap it is not,
        and a repeat must still find the request."""
        server_id = compute.find_server(parsed_args.server)
        volumes = api.BlockStorageClient(
            manager.sdk_connection.block_storage)
        return (server_id, volumes.find_volume(parsed_args.old_volume),
                volumes.find_volume(parsed_args.new_volume))

    def _entry(self, request):
        from idemclient import journal as journal_mod
        with journal_mod.Journal.open(hooks.journal_path(self.app)) as j:
            return j.find(request.scope.key, request.operation,
                          request.idem_key)

    def _observe(self, compute, server_id, request_id, entry, wait):
        """The swap's instance action; with ``wait``, until it ends."""
        if entry is not None:
            request_id = entry.response_request_id
        since = entry.created_at if entry is not None else None
        deadline = time.monotonic() + WAIT_SECONDS
        said = None
        while True:
            observation = tasks.observe_swap(compute, server_id, request_id,
                                             since)
            state = observation.state if observation else 'pending'
            if not wait or state not in ('pending', 'accepted'):
                return observation
            if state != said:
                self.say('Waiting for the swap on server %s: %s...'
                         % (server_id, state))
                said = state
            if time.monotonic() > deadline:
                raise exceptions.CommandError(
                    'The swap did not end within %ds; see "openstack task '
                    'show".' % WAIT_SECONDS)
            time.sleep(1)
