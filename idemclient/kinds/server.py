"""``openstack server create --client-token``: servers as an idempotent Kind.

OSC's own command still does all the work (argument parsing, name lookups,
``--wait``, output). For one invocation its compute proxy's
``create_server`` is replaced by a call that goes through ``run_once``; the
server gets a tag derived from the token, a tag of its own attempt and a
metadata item holding the request's fingerprint, which is what a retry from
any host finds. Several hosts sending the token together are settled by
``converge``: each deletes its own extra servers and prints the winner.
"""

import logging
import math
import time


from idemclient.clients import compute as compute_api
from idemclient.clients import errors
from idemclient import context
from idemclient import contract
from idemclient.core import converge
from idemclient.core import failpoints
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent
from idemclient.core import registry
from idemclient import wrapping

LOG = logging.getLogger(__name__)
OPERATION = registry.BY_COMMAND['server create'].operation
FINGERPRINT_KEY = fp.METADATA_KEY


def _sdk_server(body):
    from openstack.compute.v2 import server as sdk_server
    return sdk_server.Server.existing(**body)


def delete_losers(client, decision, say):
    """Delete this host's losing servers and anybody's stale ones; one
    that cannot be deleted now is left to the next run."""
    winner = decision.winner_ids[0]
    for server in decision.own_losers + decision.stale_losers:
        say('Deleting server %s: another run with the same token created '
            'server %s first.' % (server['id'], winner))
        failpoints.hit('before-delete-loser')
        try:
            client.delete_server(server['id'])
        except errors.ApiError as exc:
            say('Server %s could not be deleted (%s); the next run with '
                'this token deletes it.' % (server['id'], exc))
        failpoints.hit('after-delete-loser')


class ServerKind(contract.Kind):
    noun = 'server'
    unordered = ('security_groups', 'tags')

    def __init__(self, client, create, kwargs, request, settle_seconds=3.0,
                 say=lambda message: None):
        self.client = client
        self._create = create
        self._kwargs = kwargs
        self._request = request
        self.settle_seconds = settle_seconds
        self.say = say
        self.own_attempts = set()
        self.settlement = None  # a decision the last send still owes

    @property
    def settles(self):
        return self.settle_seconds > 0

    def bind(self, entry):
        """An attempt of this host that may have reached the cloud: its
        servers are this host's to delete if they lose."""
        if entry is not None and entry.state == 'pending' and \
                entry.request_id:
            self.own_attempts.add(converge.attempt_tag(entry.request_id))
        return None

    def _found(self, winners):
        recorded = (winners[0].get('metadata') or {}).get(FINGERPRINT_KEY)
        return idempotent.Found(_sdk_server(winners[0]),
                                [s['id'] for s in winners],
                                fp.Fingerprint.decode(recorded)
                                if recorded else None)

    def find(self, request):
        listing = self.client.tag_listing(request.marker)
        if not listing.servers:
            return None
        return self._found(self.decide(listing).winners)

    def peek(self, request):
        """The oldest attempt's servers, undecided: what a reservation's
        holder made (a race is settled by ``find``). ``final`` when no
        other server could still win: one attempt, older than the settle
        time on Nova's clock (``converge``)."""
        listing = self.client.tag_listing(request.marker)
        if not listing.servers:
            return None
        ranked = converge.groups(listing.servers)
        found = self._found(ranked[0])
        found.final = len(ranked) == 1 and converge.wait_needed(
            listing, self.settle_seconds) <= 0
        return found

    def decide(self, listing=None):
        """Settle, then delete this host's losers and stale ones."""
        list_servers = lambda: self.client.tag_listing(  # noqa: E731
            self._request.marker)
        if self.settle_seconds <= 0:  # off: the first look decides
            return converge.Decision(listing or list_servers(), 0)
        try:
            decision = converge.settle(list_servers, self.settle_seconds,
                                       self.own_attempts, listing, self.say)
        except converge.Undecided as exc:
            raise errors.Refused(str(exc))
        failpoints.hit('settle-after-list')
        LOG.debug('Settled %s: winner %s; this host\'s losers %s, stale '
                  'losers %s', self._request.label, decision.winner_ids,
                  [s['id'] for s in decision.own_losers],
                  [s['id'] for s in decision.stale_losers])
        delete_losers(self.client, decision, self.say)
        return decision

    def post_wait(self):
        """created(own) <= the POST's Date: one listing this much later
        sees the winner final, unless the API's clocks disagree."""
        return math.ceil(self.settle_seconds)

    def fetch(self, resource_ids):
        body = self.client.get_server(resource_ids[0])
        return _sdk_server(body) if body else None

    def discard(self, resource_id):
        self.client.delete_server(resource_id)

    def send(self, entry):
        request = self._request
        attempt = converge.attempt_tag(entry.request_id)
        self.own_attempts.add(attempt)
        kwargs = dict(self._kwargs)
        tags = list(kwargs.get('tags') or []) + request.markers()
        tags.append(attempt)
        kwargs['tags'] = tags
        metadata = dict(kwargs.get('metadata') or {})
        metadata[FINGERPRINT_KEY] = request.fingerprint.encode()
        kwargs['metadata'] = metadata
        try:
            server, response = self.client.guarded_create(
                lambda: self._create(**kwargs), entry.request_id,
                request.client_token)
        except Exception as exc:  # SDK or keystoneauth: translate once
            raise errors.sdk_error(exc)
        request_id = errors.response_request_id(response)
        if self.settle_seconds > 0 and self.racing:
            self.settlement = Settlement(self, entry.uuid, server)
            return server, None, request_id
        ids = [server.id]
        if (kwargs.get('max_count') or 1) > 1:
            ids = [s['id'] for s in converge.ordered(
                self.client.servers_by_tag(attempt))]
        return server, ids, request_id


class Settlement:
    """The decision a create still owes after its POST, taken at the first
    look at the new server (OSC's refresh, or its first ``--wait`` poll), so
    the wait for other hosts overlaps the server's build. The server object
    OSC holds becomes the winner's; the winner's listed body answers that
    first look, in place of a GET."""

    def __init__(self, kind, entry_uuid, server):
        self.kind, self.entry_uuid, self.server = kind, entry_uuid, server
        self.own_id = server.id
        self.sent_at = time.monotonic()
        self.decision = None
        self.winner_body = None  # served once, to the first look
        self.journal_path = None
        self._held = None

    def hold(self, held):
        """Keep the coordination lock until decided."""
        self._held = held

    def decide(self):
        if self.decision is not None:
            return
        try:
            self._decide()
        finally:
            if self._held is not None:
                self._held.release()

    def _decide(self):
        remaining = self.kind.post_wait() - (time.monotonic() - self.sent_at)
        if remaining > 0:
            self.kind.say('Waiting %.1fs for any other run with the same '
                          'token to show up...' % remaining)
            time.sleep(remaining)
        decision = self.kind.decide()
        self.decision = decision
        request = self.kind._request
        winners = decision.winners
        if not winners:  # deleted meanwhile by somebody else
            raise errors.Refused(
                'Server %s was deleted while it was being created.'
                % self.own_id)
        found = self.kind._found(winners)
        if found.fingerprint is not None and \
                found.fingerprint != request.fingerprint:
            error = idempotent.mismatch(request, found.fingerprint,
                                        'on the cloud')
            idempotent.record(self.journal_path, self.entry_uuid,
                              error=str(error))
            raise error
        failpoints.hit('settle-before-record')
        idempotent.record(self.journal_path, self.entry_uuid,
                          found.resource_ids)
        self.winner_body = winners[0]
        idempotent.tell(self.kind.say, idempotent.CREATED if winners[0][
            'id'] == self.own_id else idempotent.EXISTED)
        if winners[0]['id'] != self.own_id:
            self.server._update(**winners[0])
            self.server._update(admin_password=None)  # not the winner's

    def look(self, server_id):
        """The first look at the new server: decide, and answer with the
        winner's listed body; None when a GET must answer."""
        if server_id != self.own_id and (
                self.decision is None or
                server_id != self.decision.winner_ids[0]):
            return None
        self.decide()
        body, self.winner_body = self.winner_body, None
        return _sdk_server(body) if body is not None else None


def request_for(scope, kwargs, client_token, task_tag):
    """The Request for these create arguments (fingerprint over what OSC
    resolved: flavor and image ids, networks, counts...)."""
    return idempotent.Request.for_create(OPERATION, scope, kwargs,
                                         client_token, task_tag,
                                         target=kwargs.get('name'),
                                         unordered=ServerKind.unordered)


class Invocation(contract.Invocation):
    """What replaces the compute proxy's ``create_server`` and
    ``get_server`` for one ``server create``.

    Without ``--wait`` the decision is taken before ``create_server``
    returns, so the output never mixes two servers (a loser's admin
    password shown with the winner's id).
    """

    def __init__(self, compute, journal_path, scope_of, client_token,
                 task_tag, say, settle_seconds, coordination_url, wait,
                 reservation_for=lambda request: None, retries=None):
        self.compute = compute
        self._create = compute.create_server
        self._get = compute.get_server
        self.journal_path = journal_path
        self.scope_of = scope_of
        self.client_token, self.task_tag = client_token, task_tag
        self.say = say
        self.settle_seconds = settle_seconds
        self.coordination_url = coordination_url
        self.wait = wait
        self.reservation_for = reservation_for
        self.retries = retries
        self.settlement = None

    def install(self):
        wrapping.wrap_create(self.compute, 'create_server',
                             self.create_server)
        wrapping.wrap(self.compute, 'get_server', self.get_server)

    def create_server(self, **kwargs):
        client = compute_api.ComputeClient(self.compute)
        if not client.supports(compute_api.TAGS_AT_CREATE_MICROVERSION):
            raise errors.Refused(
                'Client tokens and task tags need compute API %s or later '
                '(server tags at create time); this cloud or the pinned '
                '--os-compute-api-version does not allow it. Nothing was '
                'sent.' % compute_api.TAGS_AT_CREATE_MICROVERSION)
        request = request_for(self.scope_of(), kwargs, self.client_token,
                              self.task_tag)
        kind = ServerKind(client, self._create, kwargs, request,
                          self.settle_seconds, self.say)
        result = idempotent.run_once(self.journal_path, request, kind,
                                     self.say, self.coordination_url,
                                     self.reservation_for(request),
                                     self.retries)
        self.settlement = kind.settlement
        if self.settlement is not None:
            self.settlement.journal_path = self.journal_path
            if not self.wait:
                self.settlement.decide()
        return result

    def get_server(self, server, *args, **kwargs):
        if self.settlement is not None:
            server_id = getattr(server, 'id', server)
            looked = self.settlement.look(server_id)
            if looked is not None:
                return looked
            if server_id == self.settlement.own_id:
                server = self.settlement.decision.winner_ids[0]
        return self._get(server, *args, **kwargs)

    def after(self, parsed_args, return_code):
        """A decision no look asked for is still taken."""
        if self.settlement is not None:
            self.settlement.decide()
        return return_code


def install(app, parsed_args, token, task_tag, say):
    """Wrap this ``server create``'s compute calls (see ``hooks``)."""
    compute = app.client_manager.compute
    invocation = Invocation(
        compute, context.journal_path(app),
        lambda: context.scope_of(app, compute), token, task_tag, say,
        context.settle_seconds(app), context.coordination_url(app),
        getattr(parsed_args, 'wait', False),
        lambda request: context.reservation(app, parsed_args, request, say),
        context.retries(app, parsed_args))
    invocation.install()
    return invocation
