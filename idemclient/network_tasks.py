"""The task model's Neutron part: what became of a network, port, router,
security group or floating IP create, found by its markers
(``kinds.neutron``) from any host.

Neutron creates synchronously: an item that exists was made, so its task
has ``succeeded`` unless its status is ``ERROR``. ``network`` is a
callable giving the ``NetworkClient``; a cloud without Neutron shows no
Neutron tasks.
"""

from idemclient.clients import errors
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.observation import Observation

# journal operation -> REST collection
SECURITY_GROUP = registry.BY_COMMAND['security group create'].operation
# Neutron's kinds: journal operation -> REST collection.
NEUTRON = {kind.operation: kind.collection
           for kind in registry.of_service('network')}
# What a listing keeps to match and judge items (security groups have no
# status).
_FIELDS = ('id', 'description', 'created_at', 'tags', 'status')


def observe(operation, body):
    if (body.get('status') or '').upper() == 'ERROR':
        noun = NEUTRON[operation][:-1].replace('-', ' ')
        return Observation('failed', [body['id']],
                           'The %s is in error.' % noun)
    return Observation('succeeded', [body['id']])


def _fields(operation):
    return [f for f in _FIELDS if f != 'status' or
            operation != SECURITY_GROUP]


def _found(network, project_id, operation, keep, tag):
    """Items of a kind that ``keep`` accepts, oldest first: ports among
    those tagged ``tag`` first (their markers are tags where the cloud
    lets a create carry them), then among the project's descriptions."""
    from idemclient.kinds import neutron
    if network is None:
        return []
    try:
        client = network()
        collection = NEUTRON[operation]
        if collection == 'ports':
            found = neutron.listed(client, collection, project_id, keep, tag)
            if found:
                return found
        return neutron.listed(client, collection, project_id, keep)
    except errors.ApiError:
        return []


def _with_body(network, operation, item):
    """A listed item whole (a description lookup lists a few fields)."""
    if 'status' in item or operation == SECURITY_GROUP:
        return item
    return network().get(NEUTRON[operation], item['id']) or item


def observe_entry(entry, network):
    """What the cloud shows for a journal entry of a Neutron kind."""
    from idemclient.kinds import neutron
    if entry.state == 'done':
        body = network().get(NEUTRON[entry.operation], entry.resource_ids[0])
        if body is None:
            return Observation('deleted', entry.resource_ids)
        return observe(entry.operation, body)
    found = _found(network, entry.project_id, entry.operation,
                   lambda item: neutron.Marks(item, entry.operation).carry(
                       entry.marker), entry.marker)
    if not found:
        return None
    return observe(entry.operation,
                   _with_body(network, entry.operation, found[0]))


def by_tag(network, scope, tag_marker):
    """(operation, observation, task id) of each kind's create carrying
    the task tag's marker."""
    from idemclient.kinds import neutron
    result = []
    for operation in NEUTRON:
        found = _found(network, scope.project_id, operation,
                       lambda item, op=operation: neutron.Marks(
                           item, op).carry(tag_marker), tag_marker)
        if found:
            body = _with_body(network, operation, found[0])
            result.append((operation, observe(operation, body),
                           neutron.Marks(body, operation).task_id))
    return result


def by_id(network, scope, task_id):
    """The create whose item carries this task id: [] or one (operation,
    observation, task id)."""
    from idemclient.kinds import neutron
    for operation in NEUTRON:
        found = _found(network, scope.project_id, operation,
                       lambda item, op=operation: neutron.Marks(
                           item, op).task_id == task_id,
                       tokens.id_tag(operation, task_id))
        if found:
            return [(operation, observe(operation, _with_body(
                network, operation, found[0])), task_id)]
    return []


def by_marker(network, entries):
    """{(operation, marker): item} for pending entries: each kind listed
    once, for every project among them."""
    from idemclient.kinds import neutron
    found = {}
    for operation, project_id in {(e.operation, e.project_id)
                                  for e in entries}:
        markers = {e.marker for e in entries if e.operation == operation}
        shorts = {neutron.short(m): m for m in markers}
        items = network().listed(NEUTRON[operation], {
            'project_id': project_id, 'fields': _fields(operation)})
        for item in sorted(items, key=lambda i: (i.get('created_at') or '',
                                                 i['id'])):
            keys = neutron.Marks(item, operation).keys
            for key in keys:
                marker = key if key in markers else shorts.get(key)
                if marker:
                    found.setdefault((operation, marker), item)
    return found
