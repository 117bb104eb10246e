"""Settle-then-decide against a fake Nova whose clocks, visibility delays
and UUID order each test sets: hosts are threads, each with its own journal,
running the real run-once flow and settle step (``cross-host-race.md``).

Each counterexample of the notes runs twice: with the naive rule (decide at
once, earliest ``created`` wins), which must break, proving the scenario is
the adversary it claims to be; and with the settle step, which must give
one server, one printed id, never deleted.

A server's ``created`` is the time its POST was scripted for, not when the
thread got there, so two POSTs scripted in one second share it whatever
the scheduler does. The order of events still rides on real time (hosts
are threads that sleep until their moment): a POST more than
``LATE_SECONDS`` behind its script fails the test as "did not play as
scripted", rather than passing or failing on another scenario.
"""

import os
import threading
import time

import fixtures
from openstack.compute.v2 import server as sdk_server
import testtools

from idemclient.core import converge
from idemclient.core import idempotent
from idemclient.kinds import server as server_kind
from idemclient.tests.unit import shared

SCOPE = shared.SCOPE
KWARGS = {'name': 'web1', 'image_id': 'img', 'flavor_id': '1',
          'min_count': 1, 'max_count': 1, 'networks': 'none'}
# Nova's clock at the start of a scenario: 0.1 s into a whole second, so
# events up to 0.9 s later share one ``created`` second.
NOVA_EPOCH = 1_800_000_000.1
D = 3.0
# The scenarios' events are at least 0.4 s apart.
LATE_SECONDS = 0.25


def iso(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


class FakeNova:
    """Servers with tags, ``created`` from the clock of the API node that
    took the POST, visible after a delay; listings stamped with the node's
    clock (whole seconds, as in the ``Date`` header)."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.servers = {}     # id -> body
        self.visible_at = {}  # id -> monotonic time
        self.deleted = []
        self.late = []        # (server id, seconds behind its script)

    def clock(self, skew):
        return NOVA_EPOCH + (time.monotonic() - self.t0) + skew

    def at(self, seconds):
        """Sleep until ``seconds`` into the scenario."""
        time.sleep(max(0.0, self.t0 + seconds - time.monotonic()))

    def insert(self, server_id, tags, metadata, skew, delay, at):
        """Insert a server whose POST was scripted for ``at`` seconds into
        the scenario: its ``created`` says so."""
        with self.lock:
            behind = time.monotonic() - self.t0 - at
            if behind > LATE_SECONDS:
                self.late.append((server_id, round(behind, 2)))
            self.servers[server_id] = {
                'id': server_id, 'name': 'web1', 'status': 'BUILD',
                'created': iso(NOVA_EPOCH + at + skew), 'tags': list(tags),
                'metadata': dict(metadata)}
            self.visible_at[server_id] = time.monotonic() + delay

    def listing(self, tag, skew):
        with self.lock:
            now = time.monotonic()
            found = [dict(s) for i, s in self.servers.items()
                     if tag in s['tags'] and self.visible_at[i] <= now]
            return converge.Listing(found, int(self.clock(skew)))

    def delete(self, server_id):
        with self.lock:
            self.deleted.append(server_id)
            self.servers.pop(server_id, None)


class Host:
    """One client machine: its API node's skew, when its POST reaches
    Nova, the id Nova gives its server, and how long until it is listed."""

    def __init__(self, name, nova, tmp, post_at=None, server_id=None,
                 skew=0.0, delay=0.05, lookup_at=0.0):
        self.name, self.nova = name, nova
        self.journal = os.path.join(tmp, name + '.sqlite')
        self.post_at, self.server_id = post_at, server_id
        self.skew, self.delay, self.lookup_at = skew, delay, lookup_at
        self.printed = self.server = None
        self.error = None

    # the ComputeClient calls ServerKind makes
    def tag_listing(self, tag):
        return self.nova.listing(tag, self.skew)

    def servers_by_tag(self, tag):
        return self.tag_listing(tag).servers

    def delete_server(self, server_id):
        self.nova.delete(server_id)

    def guarded_create(self, create, request_id, client_token):
        return create(), None

    def create(self, **kwargs):
        if self.post_at is None:
            raise AssertionError('%s was not meant to send a create'
                                 % self.name)
        self.nova.at(self.post_at)
        self.nova.insert(self.server_id, kwargs['tags'],
                         kwargs['metadata'], self.skew, self.delay,
                         self.post_at)
        return sdk_server.Server.existing(id=self.server_id,
                                          adminPass='secret-' + self.name)

    def run(self, kind_class):
        """What ``openstack server create --client-token T`` does, up to
        what it prints."""
        try:
            self.nova.at(self.lookup_at)
            request = server_kind.request_for(SCOPE, KWARGS, 'T', None)
            kind = kind_class(self, self.create, KWARGS, request, D)
            server = idempotent.run_once(self.journal, request, kind,
                                         lambda message: None)
            if kind.settlement is not None:
                kind.settlement.journal_path = self.journal
                kind.settlement.decide()
            self.printed, self.server = server.id, server
        except Exception as exc:
            self.error = exc


class NaiveKind(server_kind.ServerKind):
    """The naive rule: list right after the POST (once it is visible) and
    at the lookup, earliest (created, id) wins, delete one's own losers."""

    def post_wait(self):
        return 0.2

    def decide(self, listing=None):
        decision = converge.Decision(
            listing or self.client.tag_listing(self._request.marker), 0,
            self.own_attempts)
        for server in decision.own_losers:
            self.client.delete_server(server['id'])
        return decision


class CounterexampleTest(testtools.TestCase):

    def play(self, kind_class, *hosts):
        tmp = self.useFixture(fixtures.TempDir()).path
        nova = FakeNova()
        hosts = [Host(name, nova, tmp, **spec) for name, spec in hosts]
        threads = [threading.Thread(target=h.run, args=(kind_class,))
                   for h in hosts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual([], nova.late, 'the scenario did not play as '
                         'scripted: the scheduler held a POST back')
        return nova, hosts

    def outcome(self, nova, hosts):
        """(servers left, ids printed, printed ids that were deleted)."""
        for host in hosts:
            self.assertIsNone(host.error, host.name)
        printed = {h.printed for h in hosts}
        return (sorted(nova.servers), printed,
                printed.intersection(nova.deleted))

    def assertConverged(self, nova, hosts):
        servers, printed, deleted = self.outcome(nova, hosts)
        self.assertEqual(1, len(servers), servers)
        self.assertEqual(set(servers), printed)
        self.assertEqual(set(), deleted)

    def assertNaiveBreaks(self, nova, hosts):
        servers, printed, deleted = self.outcome(nova, hosts)
        self.assertTrue(len(servers) > 1 or len(printed) > 1 or deleted,
                        'the naive rule survived: %s' % servers)

    # 1: A's server is first to be committed and decides alone; B's,
    # created in the same second with a smaller UUID, then sorts first.
    SAME_SECOND_TIE = (
        ('A', {'post_at': 0.1, 'server_id': '9f-a'}),
        ('B', {'post_at': 0.7, 'server_id': '1c-b'}))

    def test_same_second_tie_breaks_the_naive_rule(self):
        self.assertNaiveBreaks(*self.play(NaiveKind, *self.SAME_SECOND_TIE))

    def test_same_second_tie_settles(self):
        self.assertConverged(*self.play(server_kind.ServerKind,
                                        *self.SAME_SECOND_TIE))

    # 2: a third run's lookup finds A's server in the window and adopts it;
    # B's then wins, so C printed a server that goes away (or two stay).
    THIRD_RUN_IN_THE_WINDOW = SAME_SECOND_TIE + (
        ('C', {'lookup_at': 0.4}),)

    def test_third_run_in_the_window_breaks_the_naive_rule(self):
        self.assertNaiveBreaks(*self.play(NaiveKind,
                                          *self.THIRD_RUN_IN_THE_WINDOW))

    def test_third_run_in_the_window_settles(self):
        nova, hosts = self.play(server_kind.ServerKind,
                                *self.THIRD_RUN_IN_THE_WINDOW)
        self.assertConverged(nova, hosts)
        self.assertEqual('1c-b', hosts[2].printed)

    # 3: A's API node runs 2 s fast: A's earlier server gets the later
    # ``created``, so B's later one wins after A decided.
    CLOCK_SKEW = (
        ('A', {'post_at': 0.1, 'server_id': '1c-a', 'skew': 2.0}),
        ('B', {'post_at': 0.7, 'server_id': '9f-b'}))

    def test_clock_skew_breaks_the_naive_rule(self):
        self.assertNaiveBreaks(*self.play(NaiveKind, *self.CLOCK_SKEW))

    def test_clock_skew_settles(self):
        self.assertConverged(*self.play(server_kind.ServerKind,
                                        *self.CLOCK_SKEW))

    def test_a_slowly_visible_server_settles(self):
        # B's server shows up 0.8 s after its POST returned: still inside
        # the window, so it is seen before anything is final.
        self.assertConverged(*self.play(
            server_kind.ServerKind,
            ('A', {'post_at': 0.1, 'server_id': '9f-a'}),
            ('B', {'post_at': 0.2, 'server_id': '1c-b', 'delay': 0.8})))

    def test_a_loser_learns_the_winners_id_not_its_own_password(self):
        nova, hosts = self.play(server_kind.ServerKind,
                                *self.SAME_SECOND_TIE)
        self.assertEqual(['1c-b'], sorted(nova.servers))
        self.assertEqual('1c-b', hosts[0].printed)
        self.assertIn('9f-a', nova.deleted)
        self.assertIsNone(hosts[0].server.admin_password)
        self.assertEqual('secret-B', hosts[1].server.admin_password)


def server(server_id, created, attempt=None, status='ACTIVE'):
    tags = ['idem-x-T'] + ([converge.ATTEMPT_PREFIX + attempt]
                           if attempt else [])
    return {'id': server_id, 'name': 'web1', 'created': iso(created),
            'tags': tags, 'status': status}


class DecisionTest(testtools.TestCase):

    def test_a_multi_create_wins_or_loses_as_a_whole(self):
        listing = converge.Listing([
            server('b1', NOVA_EPOCH + 1, 'b'),
            server('a2', NOVA_EPOCH, 'a'), server('a1', NOVA_EPOCH, 'a'),
            server('b2', NOVA_EPOCH + 1, 'b')], NOVA_EPOCH + 10)
        decision = converge.Decision(listing, D, own_attempts=['idem-at-b'])
        self.assertEqual(['a1', 'a2'], decision.winner_ids)
        self.assertEqual(['b1', 'b2'],
                         sorted(s['id'] for s in decision.own_losers))
        self.assertEqual([], decision.stale_losers)

    def test_same_second_goes_to_the_smaller_id(self):
        listing = converge.Listing([server('9f', NOVA_EPOCH, 'x'),
                                    server('1c', NOVA_EPOCH, 'y')],
                                   NOVA_EPOCH + 10)
        self.assertEqual(['1c'], converge.Decision(listing, D).winner_ids)

    def test_others_losers_only_once_past_d_and_the_grace(self):
        old = NOVA_EPOCH - D - converge.GRACE_SECONDS
        listing = converge.Listing([
            server('w', old - 5, 'w'), server('stale', old, 's'),
            server('fresh', old + 2, 'f')], NOVA_EPOCH)
        decision = converge.Decision(listing, D)
        self.assertEqual(['stale'], [s['id'] for s in decision.stale_losers])

    def test_servers_of_an_older_client_are_one_group(self):
        listing = converge.Listing([server('a', NOVA_EPOCH),
                                    server('b', NOVA_EPOCH + 1)],
                                   NOVA_EPOCH + 100)
        decision = converge.Decision(listing, D)
        self.assertEqual(['a', 'b'], decision.winner_ids)


class SettleTest(testtools.TestCase):
    """The settle loop on scripted listings and a fake clock."""

    def settle(self, listings, d=D, **kwargs):
        clock = {'now': 0.0}
        slept = []

        def sleep(seconds):
            slept.append(round(seconds, 2))
            clock['now'] += seconds
        said = []
        decision = converge.settle(
            lambda: listings.pop(0), d, say=said.append, sleep=sleep,
            monotonic=lambda: clock['now'], **kwargs)
        return decision, slept, said

    def test_waits_until_the_winner_is_d_old_on_novas_clock(self):
        fresh = [server('a', NOVA_EPOCH, 'a')]
        decision, slept, said = self.settle([
            converge.Listing(fresh, int(NOVA_EPOCH) + 1),
            converge.Listing(fresh + [server('0b', NOVA_EPOCH, 'b')],
                             int(NOVA_EPOCH) + 3)])
        self.assertEqual(['0b'], decision.winner_ids)
        self.assertEqual([2.05], slept)
        self.assertEqual(1, len(said))

    def test_an_old_winner_is_final_at_once(self):
        decision, slept, said = self.settle([converge.Listing(
            [server('a', NOVA_EPOCH, 'a')], NOVA_EPOCH + 3)])
        self.assertEqual((['a'], [], []), (decision.winner_ids, slept, said))

    def test_zero_decides_on_the_first_listing(self):
        decision, slept, _ = self.settle([converge.Listing(
            [server('a', NOVA_EPOCH, 'a')], NOVA_EPOCH)], d=0)
        self.assertEqual((['a'], []), (decision.winner_ids, slept))

    def test_a_down_cell_is_waited_out_then_undecided(self):
        unknown = converge.Listing([server('a', NOVA_EPOCH - 100, 'a'),
                                    server('b', 0, 'b', 'UNKNOWN')],
                                   NOVA_EPOCH)
        listings = [unknown] * 200
        exc = self.assertRaises(converge.Undecided, self.settle, listings)
        self.assertIn('Nothing was deleted', str(exc))

    def test_settle_seconds_option_environment_default(self):
        self.assertEqual(5.0, converge.seconds_from('5', {}))
        self.assertEqual(0.0, converge.seconds_from(
            None, {converge.ENV_VAR: '0'}))
        self.assertEqual(D, converge.seconds_from(None, {}))
        for bad in ('-1', 'soon', '99999'):
            self.assertRaises(ValueError, converge.seconds_from, bad, {})

    def test_attempt_tags_fit_novas_limit(self):
        tag = converge.attempt_tag('req-0b2f3c4d-1111-2222-3333-444455556666')
        self.assertEqual('idem-at-0b2f3c4d111122223333444455556666', tag)
        self.assertLessEqual(len(tag), 60)

    def test_times(self):
        self.assertEqual(1800000000.0,
                         converge.epoch('2027-01-15T08:00:00Z'))
        self.assertEqual(1800000000.0,
                         converge.http_date('Fri, 15 Jan 2027 08:00:00 GMT'))
        self.assertIsNone(converge.http_date(None))
