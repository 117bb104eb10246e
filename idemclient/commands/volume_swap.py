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

from idemclient import boundary
from idemclient.clients import block_storage as volume_api
from idemclient.clients import compute as compute_api
from idemclient import context
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent
from idemclient.core import token as tokens
from idemclient.kinds import volume_swap as swap_kind
from idemclient import output
from idemclient import tasks

WAIT_SECONDS = 600


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
        parser.add_argument('--retries', metavar='<count>',
                            help='With --task-tag: after no answer or a '
                            '429, 502, 503 or 504, run the swap\'s request '
                            'again this many times, looking it up first '
                            '(default 2; 0: none; also $IDEMCLIENT_RETRIES '
                            'or "idemclient_retries" in clouds.yaml)')
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
        elif parsed_args.retries is not None:
            raise exceptions.CommandError(
                '--retries needs --task-tag: without it, the swap is never '
                'repeated. Nothing was sent.')
        manager = self.app.client_manager
        compute = compute_api.ComputeClient(manager.compute)
        with boundary.translated():
            server_id, old_id, new_id = self._resolve(compute, manager,
                                                      parsed_args)
            if tag is None:
                swap_kind.check_attached(compute, server_id, old_id)
                request_id = swap_kind.swap(compute, server_id, old_id,
                                            new_id, None)
                entry = None
            else:
                scope = context.scope_of(self.app, manager.compute)
                request = idempotent.Request(
                    swap_kind.OPERATION, scope, fp.Fingerprint.of(
                        {'server': server_id, 'old_volume': old_id,
                         'new_volume': new_id}),
                    swap_kind.swap_marker(scope, tag), task_tag=tag,
                    target=server_id)
                idempotent.run_once(
                    context.journal_path(self.app), request,
                    swap_kind.SwapKind(compute, server_id, old_id, new_id),
                    self.say, reservation=context.reservation(
                        self.app, parsed_args, request, self.say,
                        slot_only=True),
                    retries=context.retries(self.app, parsed_args))
                request_id, entry = None, self._entry(request)
            observation = self._observe(compute, server_id, request_id,
                                        entry, parsed_args.wait)
        fields = tasks.view(entry, observation, time.time(), tag=tag,
                            operation=swap_kind.OPERATION)
        fields.update(old_volume=old_id, new_volume=new_id,
                      request_id=fields['request_id'] or request_id)
        fields['events'] = format_columns.ListDictColumn(fields['events'])
        columns = tasks.COLUMNS[:6] + ('old_volume', 'new_volume') + \
            tasks.COLUMNS[6:]
        return columns, tuple(fields[c] for c in columns)

    def _resolve(self, compute, manager, parsed_args):
        """Server, old and new volume IDs. Whether the old volume is still
        attached is checked only before sending: after a swap it is not,
        and a repeat must still find the request."""
        server_id = compute.find_server(parsed_args.server)
        volumes = volume_api.BlockStorageClient(
            manager.sdk_connection.block_storage)
        return (server_id, volumes.find_volume(parsed_args.old_volume),
                volumes.find_volume(parsed_args.new_volume))

    def _entry(self, request):
        from idemclient.core import journal as journal_mod
        with journal_mod.Journal.open(context.journal_path(self.app)) as j:
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
            observation = swap_kind.observe_swap(compute, server_id,
                                                 request_id, since)
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
