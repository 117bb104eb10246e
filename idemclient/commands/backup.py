"""``openstack backup reset-state``: the way out for stuck Cinder backups.

Cinder's reset action exists since volume API 3.0; the client negotiates the
microversion, so this works where ``openstack volume backup set --state``
(always 3.64) does not. Like OSC's multi-item commands it keeps going and
ends with one summary error.
"""

import time

from osc_lib.command import command
from osc_lib import exceptions

from idemclient.clients import block_storage as volume_api
from idemclient.clients import errors
from idemclient import output

WAIT_SECONDS = 120


class ResetBackupState(command.Command):
    """Reset the state of backups stuck in creating or restoring (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('backups', metavar='<backup>', nargs='+',
                            help='Backup(s) to reset (name or ID)')
        parser.add_argument('--state', choices=('available', 'error'),
                            default='available',
                            help='The state to set (default: available)')
        parser.add_argument('--wait', action='store_true',
                            help='Wait until every backup shows the state '
                            '(Cinder applies it after answering), up to '
                            '%ds' % WAIT_SECONDS)
        return parser

    def say(self, message):
        output.say(self.app, message)

    def take_action(self, parsed_args):
        volumes = volume_api.BlockStorageClient(
            self.app.client_manager.sdk_connection.block_storage)
        reset, failed = {}, 0
        for backup in parsed_args.backups:
            try:
                backup_id = volumes.find_backup(backup)
                volumes.reset_backup_state(backup_id, parsed_args.state)
                reset[backup_id] = backup
            except errors.ApiError as exc:
                failed += 1
                self.say('Failed to reset the state of backup %s: %s'
                         % (backup, exc))
        if parsed_args.wait and reset:
            failed += self._wait(volumes, reset, parsed_args.state)
        if failed:
            raise exceptions.CommandError(
                '%d of %d backups failed to reset.'
                % (failed, len(parsed_args.backups)))

    def _wait(self, volumes, reset, state):
        """Poll until each backup shows ``state``; the number that do not."""
        waiting, failed = dict(reset), 0
        deadline = time.monotonic() + WAIT_SECONDS
        self.say('Waiting for %d backup(s) to become %s...'
                 % (len(waiting), state))
        while waiting and time.monotonic() < deadline:
            for backup_id in list(waiting):
                try:
                    status = volumes.get_backup(backup_id)['status']
                except errors.ApiError as exc:
                    failed += 1
                    self.say('Failed to check backup %s: %s'
                             % (waiting.pop(backup_id), exc))
                    continue
                if status == state:
                    self.say('  Backup %s is %s.' % (waiting.pop(backup_id),
                                                     state))
            if waiting:
                time.sleep(0.5)
        for name in waiting.values():
            self.say('Backup %s did not become %s within %ds.'
                     % (name, state, WAIT_SECONDS))
        return failed + len(waiting)
