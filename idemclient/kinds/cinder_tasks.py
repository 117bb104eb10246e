"""The tasks of Cinder's kinds (volumes, snapshots, backups): found by the
metadata their create carried (``kinds.cinder``) from any host.

``accepted`` while ``creating``/``downloading``, ``failed`` on ``error``
(with Cinder's own user message), else ``succeeded``. A backup creating
for longer than the threshold is said to be maybe stuck, naming the way
out (seed 004's reset-state).
"""

import os
import time

from idemclient.clients import block_storage
from idemclient.clients import errors
from idemclient.contract import FoundByMarker
from idemclient.core import converge
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.kinds import backup
from idemclient.kinds import cinder
from idemclient.observation import Observation

# journal operation -> REST collection
COLLECTIONS = {kind.operation: kind.collection
               for kind in registry.of_service('block-storage')}
BACKUP = backup.OPERATION
# Cinder statuses that are still on the way, and that went wrong.
BUSY = ('creating', 'downloading')
FAILED = ('error',)
# A backup creating for longer than this may be stuck (seed 004); an
# operator whose backups take longer sets the environment variable.
STUCK_SECONDS = 3600
STUCK_ENV_VAR = 'IDEMCLIENT_BACKUP_STUCK_SECONDS'


def stuck_seconds():
    """How long a backup may be creating before it is called maybe stuck:
    ``$IDEMCLIENT_BACKUP_STUCK_SECONDS``, else an hour."""
    value = os.environ.get(STUCK_ENV_VAR)
    if value is None:
        return STUCK_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not seconds >= 0:
        raise ValueError('%s must be a number of seconds, not %r.'
                         % (STUCK_ENV_VAR, value))
    return seconds


def _duration(seconds):
    if seconds < 120:
        return '%d seconds' % seconds
    return '%d minutes' % (seconds // 60)


def judge(client, operation, body, now=None):
    """accepted / succeeded / failed (with Cinder's own reason)."""
    status = (body.get('status') or '').lower()
    if status in BUSY:
        age = (now or time.time()) - (converge.epoch(body.get('created_at')) or
                                      float('inf'))
        note = None
        if operation == BACKUP and age > stuck_seconds():
            note = ('The backup has been creating for %s: if '
                    'cinder-backup stopped it is stuck; an admin can run '
                    '"openstack backup reset-state --state error %s".'
                    % (_duration(age), body['id']))
        return Observation('accepted', [body['id']], note)
    if status in FAILED:
        messages = client.messages_about(body['id'])
        reason = messages[0].get('user_message') if messages else None
        return Observation('failed', [body['id']], reason or
                           'The %s is in error.' % COLLECTIONS[operation][:-1])
    return Observation('succeeded', [body['id']])


class CinderTasks(FoundByMarker):

    def _marked(self, clients, operation, key, value):
        """Items of a kind carrying a marker; [] on a cloud without block
        storage, or too old for the kind."""
        if not clients.has('volumes'):
            return []
        try:
            client = clients.volumes
            if operation == BACKUP:  # no metadata filter: matched here
                if not client.supports(backup.METADATA_MICROVERSION):
                    return []
                return client.listed('backups', None, lambda b: (
                    b.get('metadata') or {}).get(key) == value)
            if not client.supports(block_storage.FILTER_MICROVERSION):
                return []
            return client.with_metadata(COLLECTIONS[operation], key, value)
        except errors.ApiError:
            return []

    def get(self, clients, entry):
        return clients.volumes.get(COLLECTIONS[entry.operation],
                                   entry.resource_ids[0])

    def marked(self, clients, entry):
        found = self._marked(clients, entry.operation, cinder.MARKER_KEY,
                             entry.marker)
        return found[0] if found else None

    def judge(self, clients, entry, body):
        return judge(clients.volumes, entry.operation, body)

    def by_tag(self, clients, scope, tag):
        tag_marker = tokens.derive_tag(scope, tag, prefix='task')
        return [(operation, judge(clients.volumes, operation, body),
                 tokens.task_id_of([(body.get('metadata') or {}).get(
                     cinder.TASK_KEY)], operation))
                for operation in COLLECTIONS
                for body in self._marked(clients, operation, cinder.TAG_KEY,
                                         tag_marker)]

    def by_id(self, clients, scope, task_id):
        for operation in COLLECTIONS:
            for body in self._marked(clients, operation, cinder.TASK_KEY,
                                     tokens.id_tag(operation, task_id)):
                return [(operation, judge(clients.volumes, operation, body),
                         task_id)]
        return []

    def reconcile(self, clients, entries, settle_seconds, say,
                  progress=None):
        """Each kind listed once for all its entries."""
        by_marker = {}
        for operation in {e.operation for e in entries}:
            for body in clients.volumes.listed(COLLECTIONS[operation]):
                marker = (body.get('metadata') or {}).get(cinder.MARKER_KEY)
                if marker:
                    by_marker.setdefault((operation, marker), body)
        found = {}
        for entry in entries:
            body = by_marker.get((entry.operation, entry.marker))
            found[entry.uuid] = judge(clients.volumes, entry.operation,
                                      body) if body else None
        return found


TASKS = CinderTasks()
