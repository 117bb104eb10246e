"""What became of a request: the Tasks API that Nova never shipped, built
from the journal and from APIs every cloud has (tags, metadata,
properties, descriptions, instance actions and their events).

A task's state is worked out when asked, never trusted from the journal
alone: the journal says what this host sent, the cloud says what happened.
Which family of kinds observes an operation is the registry's
(``core.registry``, ``contract.Tasks``): this module names no service.
"""

import datetime
import importlib
import logging

from idemclient.core import converge
from idemclient.core import idempotent
from idemclient.core import journal as journal_mod
from idemclient.core import registry
from idemclient.observation import Observation

LOG = logging.getLogger(__name__)

# state: what it means and what to do next (doc/source/tasks.rst has the
# same table)
STATES = {
    'pending': 'recorded here and maybe sent; the cloud shows nothing yet. '
               'Run "openstack task resume" in a few seconds.',
    'accepted': 'the cloud has it and is still working on it.',
    'succeeded': 'done.',
    'failed': 'the cloud refused it or it ended in error (see error).',
    'not-found': 'it may have been sent, but the cloud has no trace of it: '
                 'nothing was made. Safe to retry: run the same command '
                 'again.',
    'deleted': 'it succeeded; the resource has since been deleted.',
}
# outcome: what a program does next, whichever host asks (doc/source/
# tokens.rst has the same table): the request made its resource
# (whatever became of it since); it was refused, nothing made (fix the
# command); or it is not known yet (run the same command again).
OUTCOMES = {'accepted': 'created', 'succeeded': 'created',
            'deleted': 'created', 'pending': 'unknown',
            'not-found': 'unknown'}
COLUMNS = ('uuid', 'task', 'state', 'outcome', 'tag', 'resource',
           'request_id',
           'client_request_id', 'user_id', 'project_id', 'start_time',
           'last_updated', 'error', 'events')
# A pending entry younger than this may still be on its way to the cloud.
SETTLE_SECONDS = idempotent.SETTLE_SECONDS


def family(operation):
    """The ``contract.Tasks`` observing ``operation``'s tasks."""
    kind = registry.BY_OPERATION.get(operation)
    if kind is None:
        raise ValueError('No kind of request has the operation %r.'
                         % operation)
    return importlib.import_module(kind.tasks).TASKS


def families():
    """Every ``contract.Tasks``, once each, in the registry's order."""
    return [importlib.import_module(name).TASKS
            for name in registry.task_modules()]


def _iso(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(
        epoch, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _age(entry, now):
    return now - entry.updated_at


def observe(entry, clients):
    """What the cloud shows for a journal entry; None: no trace (yet)."""
    return family(entry.operation).observe(entry, clients)


def _nova_time(text):
    epoch = converge.epoch(text)
    return _iso(epoch) if epoch is not None else text


def view(entry, observation, now, tag=None, operation=None, uuid=None):
    """The task's fields (``COLUMNS``) from what is known of it."""
    if observation is None:
        fresh = entry is not None and _age(entry, now) < SETTLE_SECONDS
        state = 'pending' if fresh else 'not-found'
        observation = Observation(state, entry.resource_ids if entry else ())
    action = observation.action or {}
    events = [{k: e.get(k) for k in ('event', 'result', 'start_time',
                                     'finish_time', 'details') if k in e}
              for e in action.get('events') or []]
    resource = ', '.join(observation.resource_ids) or (
        entry.target if entry is not None and
        family(entry.operation).target_is_resource else None)
    fields = {
        'uuid': entry.uuid if entry else uuid,
        'task': entry.operation if entry else operation,
        'state': observation.state,
        'outcome': OUTCOMES.get(observation.state) or (
            'created' if observation.resource_ids else 'refused'),
        'tag': entry.task_tag if entry else tag,
        'resource': resource or None,
        'request_id': action.get('request_id') or (
            entry.response_request_id if entry else None),
        'client_request_id': entry.request_id if entry else None,
        'user_id': entry.user_id if entry else action.get('user_id'),
        'project_id': entry.project_id if entry else action.get(
            'project_id'),
        'start_time': _iso(entry.created_at) if entry else _nova_time(
            action.get('start_time')),
        'last_updated': _iso(entry.updated_at) if entry else _nova_time(
            action.get('updated_at') or action.get('start_time')),
        'error': observation.error,
        'events': events,
    }
    if observation.ports is not None:
        fields['ports'] = list(observation.ports)
    return fields


def columns(fields):
    """The columns a task shows: ``COLUMNS``, and a server create's
    ``ports`` after its resource."""
    if 'ports' not in fields:
        return COLUMNS
    at = COLUMNS.index('resource') + 1
    return COLUMNS[:at] + ('ports',) + COLUMNS[at:]


def from_cloud(clients, scope, tag):
    """Tasks with this tag that only the cloud knows (another host sent
    them), as (operation, observation, task id): the id is the one the
    sending host's journal gave it, read from the resource (or derived
    from the tag)."""
    found = [task for each in families()
             for task in each.by_tag(clients, scope, tag)]
    return [(op, obs, task_id or journal_mod.entry_id(
        scope.key, op, 'task:' + tag)) for op, obs, task_id in found]


def from_cloud_by_id(clients, scope, task_id):
    """The task with this id that only the cloud knows: the resource
    carries the id (``token.id_tag``); [] or one (operation, observation,
    task id)."""
    for each in families():
        found = each.by_id(clients, scope, task_id)
        if found:
            return found[:1]
    return []


def show_by_tag(journal, clients, scope, tag, now, slots=None,
                search=True):
    """Every task with this tag in the caller's scope, as views: this
    host's entries, else the tag's slots (``reservations.tagged``, given
    as ``slots()``: one listing), else, if ``search``, what the
    cloud's resources carry (a listing per kind: how a task sent without
    a reservation is found)."""
    entries = journal.by_task_tag(scope.key, tag)
    if entries:
        return [view(e, observe(e, clients), now) for e in entries]
    entries = [_slot_entry(body, scope, tag) for body in
               (slots() if slots else [])]
    if entries:
        return [view(None, observe(e, clients), now, tag=tag,
                     operation=e.operation, uuid=e.uuid) for e in entries]
    if not search:
        return []
    return [view(None, obs, now, tag=tag, operation=op, uuid=task_id)
            for op, obs, task_id in from_cloud(clients, scope, tag)]


def _slot_entry(body, scope, tag):
    """A journal entry as another host's would be, from a tag's slot: a
    done one where its outcome was recorded, else a pending one that the
    task tag's marker finds."""
    from idemclient.core import token
    from idemclient import reservations
    ids = reservations.resource_ids_of(body) or []
    return journal_mod.Entry(
        uuid=body.get(reservations.TASK_KEY), operation=body.get(
            reservations.OPERATION_KEY), scope=scope.key,
        auth_url=scope.auth_url, project_id=scope.project_id,
        user_id=scope.user_id, idem_key='task:' + tag, client_token=None,
        task_tag=tag, marker=token.derive_tag(scope, tag, prefix='task'),
        fingerprint='', state='done' if ids else 'pending',
        resource_ids=ids, request_id=None, response_request_id=None,
        error=None, secret=None, attempts=0, created_at=0.0,
        updated_at=0.0, target=body.get(reservations.TARGET_KEY))


def show_by_id(journal, clients, scope, task_id, now):
    """The task with this id in the caller's scope, as views ([] or one):
    this host's entry, else what the cloud carries."""
    entry = journal.get(task_id)
    if entry is not None and entry.scope == scope.key:
        return [view(entry, observe(entry, clients), now)]
    if entry is not None or not _is_uuid(task_id):
        return []  # another project's or user's; or no task id at all
    return [view(None, obs, now, operation=op, uuid=found_id)
            for op, obs, found_id in from_cloud_by_id(clients, scope,
                                                      task_id)]


def _is_uuid(text):
    import uuid
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def resume(journal, clients, entries, now, progress=None,
           settle_seconds=converge.DEFAULT_SECONDS, say=None):
    """Reconcile pending entries with the cloud; record what is found.

    Each family reconciles its entries at once (servers in batches, and a
    create that several hosts sent only once its winner is final: see
    ``kinds.server_tasks``). Returns the views, in the order of
    ``entries``.
    """
    found = {}
    for each in families():
        mine = [e for e in entries if family(e.operation) is each]
        if mine:
            found.update(each.reconcile(clients, mine, settle_seconds, say,
                                        progress))
    views = []
    for entry in entries:
        observation = found.get(entry.uuid)
        if observation is not None and not observation.final:
            views.append(view(entry, observation, now))
            continue
        if observation is not None and observation.resource_ids and \
                observation.state in ('accepted', 'succeeded', 'failed'):
            LOG.debug('Resume: task %s found %s (%s); recorded', entry.uuid,
                      observation.resource_ids, observation.state)
            journal.mark_done(entry.uuid, observation.resource_ids)
            entry = journal.get(entry.uuid)
        elif observation is None and _age(entry, now) >= SETTLE_SECONDS:
            LOG.debug('Resume: task %s not found on the cloud', entry.uuid)
            journal.note(entry.uuid, 'Not found on the cloud at %s.'
                         % _iso(now))
            entry = journal.get(entry.uuid)
        views.append(view(entry, observation, now))
    return views
