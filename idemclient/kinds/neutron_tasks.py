"""The tasks of Neutron's kinds (networks, ports, routers, security groups,
floating IPs): found by their markers (``kinds.neutron``) from any host.

Neutron creates synchronously: an item that exists was made, so its task
has ``succeeded`` unless its status is ``ERROR``. A cloud without Neutron
shows no Neutron tasks.
"""

from idemclient.clients import errors
from idemclient.contract import FoundByMarker
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.kinds import neutron
from idemclient.observation import Observation

SECURITY_GROUP = registry.BY_COMMAND['security group create'].operation
# journal operation -> REST collection
COLLECTIONS = {kind.operation: kind.collection
               for kind in registry.of_service('network')}
# What a listing keeps to match and judge items (security groups have no
# status).
_FIELDS = ('id', 'description', 'created_at', 'tags', 'status')


def judge(operation, body):
    if (body.get('status') or '').upper() == 'ERROR':
        noun = COLLECTIONS[operation][:-1].replace('-', ' ')
        return Observation('failed', [body['id']],
                           'The %s is in error.' % noun)
    return Observation('succeeded', [body['id']])


def _fields(operation):
    return [f for f in _FIELDS if f != 'status' or
            operation != SECURITY_GROUP]


class NeutronTasks(FoundByMarker):

    def _found(self, clients, project_id, operation, keep, tag):
        """Items of a kind that ``keep`` accepts, oldest first: ports
        among those tagged ``tag`` first (their markers are tags where the
        cloud lets a create carry them), then among the project's
        descriptions."""
        if not clients.has('network'):
            return []
        try:
            client = clients.network
            collection = COLLECTIONS[operation]
            if collection == 'ports':
                found = neutron.listed(client, collection, project_id, keep,
                                       tag)
                if found:
                    return found
            return neutron.listed(client, collection, project_id, keep)
        except errors.ApiError:
            return []

    def get(self, clients, entry):
        return clients.network.get(COLLECTIONS[entry.operation],
                                   entry.resource_ids[0])

    def marked(self, clients, entry):
        found = self._found(
            clients, entry.project_id, entry.operation,
            lambda item: neutron.Marks(item, entry.operation).carry(
                entry.marker), entry.marker)
        return found[0] if found else None

    def judge(self, clients, entry, body):
        return judge(entry.operation, body)

    def by_tag(self, clients, scope, tag):
        tag_marker = tokens.derive_tag(scope, tag, prefix='task')
        result = []
        for operation in COLLECTIONS:
            found = self._found(clients, scope.project_id, operation,
                                lambda item, op=operation: neutron.Marks(
                                    item, op).carry(tag_marker), tag_marker)
            if found:
                body = found[0]
                result.append((operation, judge(operation, body),
                               neutron.Marks(body, operation).task_id))
        return result

    def by_id(self, clients, scope, task_id):
        for operation in COLLECTIONS:
            found = self._found(clients, scope.project_id, operation,
                                lambda item, op=operation: neutron.Marks(
                                    item, op).task_id == task_id,
                                tokens.id_tag(operation, task_id))
            if found:
                return [(operation, judge(operation, found[0]), task_id)]
        return []

    def reconcile(self, clients, entries, settle_seconds, say,
                  progress=None):
        """Each kind listed once, for every project among the entries."""
        by_marker = {}
        for operation, project_id in {(e.operation, e.project_id)
                                      for e in entries}:
            markers = {e.marker for e in entries if e.operation == operation}
            shorts = {neutron.short(m): m for m in markers}
            items = clients.network.listed(COLLECTIONS[operation], {
                'project_id': project_id, 'fields': _fields(operation)})
            for item in neutron.oldest_first(items):
                for key in neutron.Marks(item, operation).keys:
                    marker = key if key in markers else shorts.get(key)
                    if marker:
                        by_marker.setdefault((operation, marker), item)
        found = {}
        for entry in entries:
            body = by_marker.get((entry.operation, entry.marker))
            found[entry.uuid] = judge(entry.operation, body) \
                if body else None
        return found


TASKS = NeutronTasks()
