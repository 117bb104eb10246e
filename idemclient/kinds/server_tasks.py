"""The tasks of ``server create``: found by the token's tag on the servers
(``kinds.server``) from any host; their state is the server's, their
events the ``create`` instance action's. A task tag's or id's lookup also
finds volume swaps (``kinds.volume_swap``), whose markers are server tags
too, in the same request.

``task resume`` looks pending creates up in batches (``tags-any``) and,
like a run of the same command, records one only once its winner is final
(``core.converge``), deleting this host's losing servers and anybody's
left over for long.
"""

import logging

from idemclient.clients import errors
from idemclient.contract import FoundByMarker
from idemclient.core import converge
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.kinds import server as server_kind
from idemclient.kinds import volume_swap
from idemclient.observation import instance_action
from idemclient.observation import Observation
from idemclient.observation import server_state

LOG = logging.getLogger(__name__)
CREATE = registry.BY_COMMAND['server create'].operation
# Tags per ``tags-any`` lookup: 1,000 pending creates in 17 requests, and
# the query string stays near 4 KB (Nova's servers accept 8 KB lines).
TAGS_PER_LOOKUP = 60


def observe_servers(compute, servers, request_id=None, events=True):
    """Observation of a create whose servers were found; ``events``: also
    fetch its instance action and its ports (three more requests)."""
    ids = sorted(s['id'] for s in servers)
    first = next(s for s in servers if s['id'] == ids[0])
    state, error = server_state(first)
    action = ports = None
    if events:
        action = instance_action(compute, first['id'], 'create', request_id)
        ports = [port for server_id in ids
                 for port in _ports(compute, server_id)]
    return Observation(state, ids, error, action, ports=ports)


def _ports(compute, server_id):
    """The server's ports; none known when Nova cannot say."""
    try:
        return compute.port_ids(server_id)
    except errors.ApiError as exc:
        LOG.debug('No ports of server %s: %s', server_id, exc)
        return []


def _created(compute, servers, task_id=None):
    """The create a tag or id found: its winning servers (see converge)."""
    winners = converge.groups(servers)[0]
    return (CREATE, observe_servers(compute, winners), task_id or
            tokens.task_id_of(winners[0].get('tags'), CREATE))


class ServerTasks(FoundByMarker):

    def get(self, clients, entry):
        servers = [s for s in (clients.compute.get_server(i)
                               for i in entry.resource_ids) if s]
        return servers or None

    def marked(self, clients, entry):
        return clients.compute.servers_by_tag(entry.marker) or None

    def judge(self, clients, entry, servers):
        return observe_servers(clients.compute, servers,
                               entry.response_request_id)

    def by_tag(self, clients, scope, tag):
        """Creates and volume swaps: both markers in one lookup."""
        create = tokens.derive_tag(scope, tag, prefix='task')
        swap = volume_swap.swap_marker(scope, tag)
        servers = clients.compute.servers_by_any_tag([create, swap])
        created = [s for s in servers if create in (s.get('tags') or [])]
        found = [_created(clients.compute, created)] if created else []
        return found + volume_swap.among(clients.compute, servers, swap)

    def by_id(self, clients, scope, task_id):
        create, swap = (tokens.id_tag(operation, task_id) for operation in
                        (CREATE, volume_swap.OPERATION))
        servers = clients.compute.servers_by_any_tag([create, swap])
        created = [s for s in servers if create in (s.get('tags') or [])]
        if created:
            return [_created(clients.compute, created, task_id)]
        return volume_swap.among(clients.compute, servers, swap,
                                 task_id)[:1]

    def reconcile(self, clients, entries, settle_seconds, say,
                  progress=None):
        compute = clients.compute
        by_tag, dates = {}, {}
        for start in range(0, len(entries), TAGS_PER_LOOKUP):
            batch = entries[start:start + TAGS_PER_LOOKUP]
            if progress:
                progress(start, len(entries))
            listing = compute.any_tag_listing([e.marker for e in batch])
            for entry in batch:
                dates[entry.uuid] = listing.date
            for server in listing.servers:
                for tag in server.get('tags') or []:
                    by_tag.setdefault(tag, []).append(server)
        found = {}
        for entry in entries:
            servers = by_tag.get(entry.marker, [])
            winners = self._settled(compute, entry, converge.Listing(
                servers, dates.get(entry.uuid)), settle_seconds, say)
            if servers and winners is None:  # still deciding: not final
                found[entry.uuid] = Observation(
                    'accepted', [s['id'] for s in servers], final=False)
            else:
                found[entry.uuid] = observe_servers(
                    compute, winners, events=False) if winners else None
        return found

    @staticmethod
    def _settled(compute, entry, listing, settle_seconds, say):
        """The winning servers of a create, once final; None before that.
        Losers are deleted as a run of the token would."""
        if not listing.servers:
            return None
        own = [converge.attempt_tag(entry.request_id)] \
            if entry.request_id else []
        decision = converge.Decision(listing, settle_seconds, own)
        if settle_seconds > 0:
            if converge.wait_needed(listing, settle_seconds) > 0:
                LOG.debug('Resume: task %s still settling', entry.uuid)
                return None
            server_kind.delete_losers(compute, decision,
                                      say or (lambda message: None))
        return decision.winners


TASKS = ServerTasks()
