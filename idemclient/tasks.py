"""What became of a request: the Tasks API that Nova never shipped, built
from the journal and from APIs every cloud has (tags, server state,
instance actions and their events).

A task's state is worked out when asked, never trusted from the journal
alone: the journal says what this host sent, the cloud says what happened.
"""

import datetime
import os
import time

from idemclient.clients import errors
from idemclient.core import converge
from idemclient.core import journal as journal_mod
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient import image_tasks
from idemclient import network_tasks
from idemclient.observation import action_state
from idemclient.observation import instance_action
from idemclient.observation import Observation
from idemclient.observation import server_state

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
COLUMNS = ('uuid', 'task', 'state', 'tag', 'resource', 'request_id',
           'client_request_id', 'user_id', 'project_id', 'start_time',
           'last_updated', 'error', 'events')
# A pending entry younger than this may still be on its way to the cloud.
SETTLE_SECONDS = 3.0
# Tags per ``tags-any`` lookup: 1,000 pending creates in 17 requests, and
# the query string stays near 4 KB (Nova's servers accept 8 KB lines).
TAGS_PER_LOOKUP = 60

CREATE, KEYPAIR, SWAP = (registry.BY_COMMAND['server create'].operation,
                         registry.BY_COMMAND['keypair create'].operation,
                         registry.SWAP.operation)
VOLUME, SNAPSHOT, BACKUP = (
    registry.BY_COMMAND[command].operation for command in (
        'volume create', 'volume snapshot create', 'volume backup create'))
# Cinder's kinds: journal operation -> REST collection.
CINDER = {kind.operation: kind.collection
          for kind in registry.of_service('block-storage')}
# Cinder statuses that are still on the way, and that went wrong.
CINDER_BUSY = ('creating', 'downloading')
CINDER_FAILED = ('error',)
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


def swap_marker(scope, task_tag):
    """The tag a tracked swap puts on its server."""
    return tokens.derive_tag(scope, task_tag, prefix='swap')


def _iso(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(
        epoch, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _age(entry, now):
    return now - entry.updated_at


def observe_servers(compute, servers, request_id=None, events=True):
    """Observation of a create whose servers were found; ``events``: also
    fetch its instance action (two more requests)."""
    ids = sorted(s['id'] for s in servers)
    first = next(s for s in servers if s['id'] == ids[0])
    state, error = server_state(first)
    action = instance_action(compute, first['id'], 'create',
                             request_id) if events else None
    return Observation(state, ids, error, action)


def observe_swap(compute, server_id, request_id=None, since=None):
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


def observe_cinder(client, operation, body, now=None):
    """accepted / succeeded / failed (with Cinder's own reason)."""
    status = (body.get('status') or '').lower()
    if status in CINDER_BUSY:
        age = (now or time.time()) - (converge.epoch(body.get('created_at')) or
                                      float('inf'))
        note = None
        if operation == BACKUP and age > stuck_seconds():
            note = ('The backup has been creating for %s: if '
                    'cinder-backup stopped it is stuck; an admin can run '
                    '"openstack backup reset-state --state error %s".'
                    % (_duration(age), body['id']))
        return Observation('accepted', [body['id']], note)
    if status in CINDER_FAILED:
        messages = client.messages_about(body['id'])
        reason = messages[0].get('user_message') if messages else None
        return Observation('failed', [body['id']], reason or
                           'The %s is in error.' % CINDER[operation][:-1])
    return Observation('succeeded', [body['id']])


def _cinder_marked(volumes, operation, key, value):
    """Items of a Cinder kind carrying a marker; [] on a cloud without
    block storage, or too old for the kind."""
    if volumes is None:
        return []
    from idemclient.clients import block_storage
    try:
        client = volumes()
        if operation == BACKUP:  # no metadata filter: matched here
            if not client.supports('3.43'):
                return []
            return client.listed('backups', None, lambda b: (
                b.get('metadata') or {}).get(key) == value)
        if not client.supports(block_storage.FILTER_MICROVERSION):
            return []
        return client.with_metadata(CINDER[operation], key, value)
    except errors.ApiError:
        return []


def _observe_cinder_entry(entry, volumes):
    from idemclient.kinds import cinder
    if entry.state == 'done':
        body = volumes().get(CINDER[entry.operation], entry.resource_ids[0])
        if body is None:
            return Observation('deleted', entry.resource_ids)
    else:
        found = _cinder_marked(volumes, entry.operation, cinder.MARKER_KEY,
                               entry.marker)
        if not found:
            return None
        body = found[0]
    return observe_cinder(volumes(), entry.operation, body)


def observe(entry, compute, found_servers=None, volumes=None, network=None,
            images=None):
    """What the cloud shows for a journal entry; None: no trace (yet).

    ``found_servers``: the servers a batched tag lookup found for it;
    ``volumes``, ``network``, ``images``: callables giving the block
    storage, network and image client.
    """
    if entry.state == 'failed':
        return Observation('failed', entry.resource_ids, entry.error)
    if entry.operation in CINDER:
        return _observe_cinder_entry(entry, volumes)
    if entry.operation in network_tasks.NEUTRON:
        return network_tasks.observe_entry(entry, network)
    if entry.operation in image_tasks.GLANCE:
        return image_tasks.observe_entry(entry, images, compute)
    if entry.operation == CREATE:
        if entry.state == 'done':
            servers = [s for s in (compute.get_server(i)
                                   for i in entry.resource_ids) if s]
            if not servers:
                return Observation('deleted', entry.resource_ids)
        else:
            servers = found_servers if found_servers is not None else \
                compute.servers_by_tag(entry.marker)
            if not servers:
                return None
        return observe_servers(compute, servers, entry.response_request_id)
    if entry.operation == KEYPAIR:
        keypair = compute.get_keypair(entry.target) if entry.target else None
        if keypair is None:
            return Observation('deleted', entry.resource_ids) \
                if entry.state == 'done' else None
        ours = entry.state == 'done' or \
            entry.marker in (keypair.get('public_key') or '').split()[2:]
        if not ours:
            return Observation('failed', [], 'Keypair name %s is taken by '
                               'a different key.' % entry.target)
        return Observation('succeeded', [keypair['name']])
    if entry.operation == SWAP:
        return observe_swap(compute, entry.target,
                            entry.response_request_id, entry.created_at)
    return Observation(entry.state, entry.resource_ids, entry.error)


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
        entry.target if entry is not None and entry.operation == SWAP
        else None)
    fields = {
        'uuid': entry.uuid if entry else uuid,
        'task': entry.operation if entry else operation,
        'state': observation.state,
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
    return fields


def _keypairs_marked(compute, marker):
    return [k for k in compute.keypairs()
            if marker in (k.get('public_key') or '').split()[2:]]


def _created(compute, servers, task_id=None):
    """The create a tag or id found: its winning servers (see converge)."""
    winners = converge.groups(servers)[0]
    return (CREATE, observe_servers(compute, winners), task_id or
            tokens.task_id_of(winners[0].get('tags'), CREATE))


def from_cloud(compute, scope, tag, volumes=None, network=None,
               images=None):
    """Tasks with this tag that only the cloud knows (another host sent
    them), as (operation, observation, task id): servers created with it,
    servers whose volume swap carried it, keypairs whose key comment has
    it. The id is the one the sending host's journal gave it, read from
    the resource (or derived from the tag)."""
    create_tag = tokens.derive_tag(scope, tag, prefix='task')
    swap_tag = swap_marker(scope, tag)
    servers = compute.servers_by_any_tag([create_tag, swap_tag])
    created = [s for s in servers if create_tag in (s.get('tags') or [])]
    found = [_created(compute, created)] if created else []
    for server in servers:
        if swap_tag in (server.get('tags') or []):
            found.append((SWAP, observe_swap(compute, server['id']) or
                          Observation('not-found', [server['id']]), None))
    for keypair in _keypairs_marked(compute, create_tag):
        found.append((KEYPAIR, Observation('succeeded', [keypair['name']]),
                      tokens.task_id_of(keypair['public_key'].split(),
                                        KEYPAIR)))
    from idemclient.kinds import cinder
    for operation in CINDER:
        for body in _cinder_marked(volumes, operation, cinder.TAG_KEY,
                                   create_tag):
            found.append((operation, observe_cinder(volumes(), operation,
                                                    body),
                          tokens.task_id_of([(body.get('metadata') or {}).get(
                              cinder.TASK_KEY)], operation)))
    found += network_tasks.by_tag(network, scope, create_tag)
    found += image_tasks.by_tag(images, compute, create_tag)
    return [(op, obs, task_id or journal_mod.entry_id(
        scope.key, op, 'task:' + tag)) for op, obs, task_id in found]


def from_cloud_by_id(compute, scope, task_id, volumes=None, network=None,
                     images=None):
    """The task with this id that only the cloud knows: the resource
    carries the id (``token.id_tag``); [] or one (operation, observation,
    task id)."""
    create, swap = (tokens.id_tag(op, task_id) for op in (CREATE, SWAP))
    servers = compute.servers_by_any_tag([create, swap])
    created = [s for s in servers if create in (s.get('tags') or [])]
    if created:
        return [_created(compute, created, task_id)]
    for server in servers:
        return [(SWAP, observe_swap(compute, server['id']) or
                 Observation('not-found', [server['id']]), task_id)]
    keypairs = _keypairs_marked(compute, tokens.id_tag(KEYPAIR, task_id))
    if keypairs:
        return [(KEYPAIR, Observation('succeeded', [keypairs[0]['name']]),
                 task_id)]
    from idemclient.kinds import cinder
    for operation in CINDER:
        for body in _cinder_marked(volumes, operation, cinder.TASK_KEY,
                                   tokens.id_tag(operation, task_id)):
            return [(operation, observe_cinder(volumes(), operation, body),
                     task_id)]
    return network_tasks.by_id(network, scope, task_id) or \
        image_tasks.by_id(images, compute, task_id)


def show_by_tag(journal, compute, scope, tag, now, volumes=None,
                network=None, images=None):
    """Every task with this tag in the caller's scope, as views."""
    entries = journal.by_task_tag(scope.key, tag)
    if entries:
        return [view(e, observe(e, compute, volumes=volumes,
                                network=network, images=images), now)
                for e in entries]
    return [view(None, obs, now, tag=tag, operation=op, uuid=task_id)
            for op, obs, task_id in from_cloud(compute, scope, tag,
                                               volumes, network, images)]


def show_by_id(journal, compute, scope, task_id, now, volumes=None,
               network=None, images=None):
    """The task with this id in the caller's scope, as views ([] or one):
    this host's entry, else what the cloud carries."""
    entry = journal.get(task_id)
    if entry is not None and entry.scope == scope.key:
        return [view(entry, observe(entry, compute, volumes=volumes,
                                    network=network, images=images), now)]
    if entry is not None or not _is_uuid(task_id):
        return []  # another project's or user's; or no task id at all
    return [view(None, obs, now, operation=op, uuid=found_id)
            for op, obs, found_id in from_cloud_by_id(
                compute, scope, task_id, volumes, network, images)]


def _is_uuid(text):
    import uuid
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _settled(compute, entry, listing, settle_seconds, say):
    """The winning servers of a create, once final; None before that (the
    entry stays pending). Losers are deleted as a run of the token would."""
    if not listing.servers:
        return None
    own = [converge.attempt_tag(entry.request_id)] if entry.request_id \
        else []
    decision = converge.Decision(listing, settle_seconds, own)
    if settle_seconds > 0:
        if converge.wait_needed(listing, settle_seconds) > 0:
            return None
        from idemclient.kinds import server as server_kind
        server_kind.delete_losers(compute, decision,
                                  say or (lambda message: None))
    return decision.winners


def _cinder_by_marker(volumes, entries):
    """Cinder items by marker: each kind listed once for all its entries."""
    from idemclient.kinds import cinder
    found = {}
    for operation in {e.operation for e in entries}:
        for body in volumes().listed(CINDER[operation]):
            marker = (body.get('metadata') or {}).get(cinder.MARKER_KEY)
            if marker:
                found.setdefault((operation, marker), body)
    return found


def resume(journal, compute, entries, now, progress=None,
           settle_seconds=converge.DEFAULT_SECONDS, say=None, volumes=None,
           network=None, images=None):
    """Reconcile pending entries with the cloud; record what is found.

    Creates are looked up in batches (``tags-any``), the rest one by one.
    A create that several hosts sent is recorded only once its winner is
    final (see ``converge``); this host's losing servers, and anybody's
    left over for long, are deleted. Returns the views, in the order of
    ``entries``.
    """
    creates = [e for e in entries if e.operation == CREATE]
    by_tag, dates = {}, {}
    for start in range(0, len(creates), TAGS_PER_LOOKUP):
        batch = creates[start:start + TAGS_PER_LOOKUP]
        if progress:
            progress(start, len(creates))
        listing = compute.any_tag_listing([e.marker for e in batch])
        for entry in batch:
            dates[entry.uuid] = listing.date
        for server in listing.servers:
            for tag in server.get('tags') or []:
                by_tag.setdefault(tag, []).append(server)
    by_marker = _cinder_by_marker(volumes, [
        e for e in entries if e.operation in CINDER])
    by_marker.update(network_tasks.by_marker(network, [
        e for e in entries if e.operation in network_tasks.NEUTRON]))
    views = []
    for entry in entries:
        if entry.operation == CREATE:
            found = by_tag.get(entry.marker, [])
            winners = _settled(compute, entry, converge.Listing(
                found, dates.get(entry.uuid)), settle_seconds, say)
            if found and winners is None:  # still deciding: not recorded
                views.append(view(entry, Observation(
                    'accepted', [s['id'] for s in found]), now))
                continue
            observation = observe_servers(compute, winners, events=False) \
                if winners else None
        elif entry.operation in CINDER:
            body = by_marker.get((entry.operation, entry.marker))
            observation = observe_cinder(volumes(), entry.operation, body) \
                if body else None
        elif entry.operation in network_tasks.NEUTRON:
            body = by_marker.get((entry.operation, entry.marker))
            observation = network_tasks.observe(entry.operation, body) \
                if body else None
        else:
            observation = observe(entry, compute, images=images)
        if observation is not None and observation.resource_ids and \
                observation.state in ('accepted', 'succeeded', 'failed'):
            journal.mark_done(entry.uuid, observation.resource_ids)
            entry = journal.get(entry.uuid)
        elif observation is None and _age(entry, now) >= SETTLE_SECONDS:
            journal.note(entry.uuid, 'Not found on the cloud at %s.'
                         % _iso(now))
            entry = journal.get(entry.uuid)
        views.append(view(entry, observation, now))
    return views
