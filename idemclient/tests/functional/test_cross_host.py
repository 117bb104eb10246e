"""Several hosts run one client token at the same moment, against the real
Nova: each a process with its own home and journal, made to miss the lookup
together, so every one of them sends its create. The proxy in front of
Nova shows the race real: it holds the creates until all of them are in
flight at once (a gather rule). Exactly one server must remain (counted
until the losers are gone, not merely marked deleting), and every run must
print it."""

import json
import os
import signal

import fixtures

from idemclient.tests.functional import base
from idemclient.tests.functional import etcd
from idemclient.tests.functional import proxy as proxy_mod

HOSTS = 8


class CrossHostTestCase(base.FunctionalTestCase):
    """Hosts without reservations (``--no-reservation``'s environment
    variable): what a cloud whose Glance refuses them runs, the settle
    step and the optional lock. With reservations the same races send one
    create: ``test_reservations``."""

    def host_env(self, name, extra=None):
        return super().host_env(name, dict(
            {'IDEMCLIENT_RESERVATIONS': 'off'}, **(extra or {})))

    def race(self, name, token, hosts, *extra, env=None, failpoint=None):
        """Start ``hosts`` runs of one create (each on its own host); their
        processes."""
        shared = dict(env or {})
        if failpoint:
            shared.update(self.barrier(hosts),
                          IDEMCLIENT_FAILPOINT=failpoint)
        return [self.start_osc(
            *(base.CREATE + ('--client-token', token) + extra +
              (name, '-f', 'json')),
            env=self.host_env('%s-%d' % (name, n), shared))
            for n in range(hosts)]

    def printed(self, procs):
        """The JSON each run printed; every run must succeed."""
        return [json.loads(out) for out in self.outputs(procs)]

    def assertOneServerPrintedByAll(self, name, shown):
        ids = {s['id'] for s in shown}
        self.assertEqual(1, len(ids), ids)
        self.servers_named(name)  # every one made is deleted at the end
        servers = self.wait_for(lambda: self._settled(name), timeout=60,
                                what='the duplicates to be gone')
        self.assertEqual(ids, {s['id'] for s in servers})

    def _settled(self, name):
        """The servers Nova still lists, a loser being deleted included;
        None while more than one."""
        servers = self.servers_named(name, cleanup=False)
        return servers if len(servers) == 1 else None

    def compute_via(self, proxy):
        return {'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')}

    def gathering(self, method, path, count):
        """A proxy in front of Nova that holds ``count`` matching requests
        until all are in flight at once (see ``proxy``)."""
        proxy = self.useFixture(ProxyFixture(base.compute_endpoint())).proxy
        proxy.rule(method, path, 'gather', count)
        return proxy


class TestSettle(CrossHostTestCase):

    def test_eight_hosts_that_all_miss_the_lookup_print_one_server(self):
        name, token = 'race-' + self.uid, 'race-' + self.uid
        proxy = self.gathering('POST', r'/servers$', HOSTS)
        shown = self.printed(self.race(name, token, HOSTS,
                                       env=self.compute_via(proxy)))
        # the hole was really there: every host's create in flight at once
        self.assertEqual(HOSTS, proxy.gathered)
        self.assertEqual([202] * HOSTS, proxy.statuses('POST', r'/servers$'))
        self.assertOneServerPrintedByAll(name, shown)
        # Only the winner's own run may show its admin password.
        self.assertLessEqual(len({s.get('adminPass') for s in shown} -
                                 {None, ''}), 1)

    def test_with_wait_every_host_waits_for_the_one_server(self):
        name, token = 'racew-' + self.uid, 'racew-' + self.uid
        proxy = self.gathering('POST', r'/servers$', 3)
        shown = self.printed(self.race(name, token, 3, '--wait',
                                       env=self.compute_via(proxy)))
        self.assertEqual(3, proxy.gathered)
        self.assertOneServerPrintedByAll(name, shown)
        self.assertEqual({'ACTIVE'}, {s['status'] for s in shown})

    def test_a_host_killed_before_it_settled_cleans_up_on_its_rerun(self):
        name, token = 'racek-' + self.uid, 'racek-' + self.uid
        barrier = self.barrier(2)
        survivor = self.start_osc(
            *(base.CREATE + ('--client-token', token, name, '-f', 'json')),
            env=self.host_env('a', dict(
                barrier, IDEMCLIENT_FAILPOINT='barrier-after-lookup')))
        killed = self.osc(
            *(base.CREATE + ('--client-token', token, name)),
            env=self.host_env('b', dict(
                barrier, IDEMCLIENT_FAILPOINT='barrier-after-lookup,'
                'after-response')))
        self.assertEqual(-signal.SIGKILL, killed.returncode, killed.stderr)
        shown = self.printed([survivor])
        rerun = self.osc(*(base.CREATE + ('--client-token', token, name,
                                          '-f', 'json')),
                         env=self.host_env('b'))
        self.assertOK(rerun)
        self.assertOneServerPrintedByAll(name, shown + [json.loads(
            rerun.stdout)])

    def test_a_loser_killed_while_deleting_its_server(self):
        """Two hosts race; only the loser deletes a server of its own, so
        only it reaches the point and is killed there: before the delete
        (its server is left) or after it (the winner is not recorded). Its
        rerun cleans up and prints the winner."""
        for point in ('before-delete-loser', 'after-delete-loser'):
            name = token = 'racel-%s-%s' % (point.split('-')[0], self.uid)
            procs = self.race(name, token, 2, failpoint='barrier-after-lookup,'
                              + point)
            finished = [(proc.communicate(timeout=600), proc.returncode)
                        for proc in procs]
            self.assertEqual([-signal.SIGKILL, 0], sorted(
                code for _, code in finished), finished)
            loser = [code for _, code in finished].index(-signal.SIGKILL)
            [winner] = [json.loads(out) for (out, _), code in finished
                        if code == 0]
            if point == 'before-delete-loser':
                self.assertEqual(2, len(self.servers_named(name)))
            rerun = self.assertOK(self.osc(*(base.CREATE + (
                '--client-token', token, name, '-f', 'json')),
                env=self.host_env('%s-%d' % (name, loser))))
            self.assertOneServerPrintedByAll(name, [winner, json.loads(
                rerun.stdout)])


class TestBackendDown(CrossHostTestCase):

    def test_an_unreachable_backend_is_one_line_and_sends_nothing(self):
        name = 'down-' + self.uid
        port = etcd.free_port()  # nothing listens there
        result = self.osc(*(base.CREATE + ('--client-token', 't', name)),
                          env={'IDEMCLIENT_COORDINATION_URL':
                               'etcd3+http://127.0.0.1:%d' % port})
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertEqual(
            ['The coordination backend etcd3+http://127.0.0.1:%d cannot be '
             'used' % port], [line.split(' (')[0]
                              for line in result.stderr.splitlines()])
        self.assertTrue(result.stderr.strip().endswith('Nothing was sent.'))
        self.assertEqual([], self.servers_named(name))
        self.assertEqual([], self.journal_entries())


class TestEtcd(CrossHostTestCase):
    """The optional tooz lock on a real etcd: one create is sent at all."""

    def setUp(self):
        super().setUp()
        self.etcd = self.useFixture(etcd.Etcd())
        endpoint = base.compute_endpoint()
        self.proxy = self.useFixture(ProxyFixture(endpoint)).proxy
        self.proxy.rule('POST', r'/servers$', 'count')

    def test_eight_hosts_send_one_create(self):
        name, token = 'etcd-' + self.uid, 'etcd-' + self.uid
        env = dict(self.compute_via(self.proxy),
                   IDEMCLIENT_COORDINATION_URL=self.etcd.coordination_url())
        # Each host asks for the flavor before it takes the lock: all were
        # there at once, and one create was sent.
        self.proxy.rule('GET', r'/flavors/m1.tiny$', 'gather', HOSTS)
        shown = self.printed(self.race(name, token, HOSTS, env=env,
                                       failpoint='barrier-before-lock'))
        self.assertEqual(HOSTS, self.proxy.gathered)
        self.assertEqual(1, self.proxy.count('POST', r'/servers$'))
        self.assertOneServerPrintedByAll(name, shown)

    def test_a_holder_paused_past_its_lease_still_leaves_one_server(self):
        name, token = 'pause-' + self.uid, 'pause-' + self.uid
        env = dict(self.compute_via(self.proxy),
                   IDEMCLIENT_COORDINATION_URL=self.etcd.coordination_url(
                       lock_timeout=2))
        holder = self.start_osc(
            *(base.CREATE + ('--client-token', token, name, '-f', 'json')),
            env=self.host_env('holder', dict(
                env, IDEMCLIENT_FAILPOINT='stop-after-lookup')))
        self.wait_for(lambda: _stopped(holder.pid), timeout=120,
                      what='the holder to stop after its lookup')
        self.assertEqual(1, len(self.etcd.lock_keys()))  # it holds it
        self.wait_for(lambda: not self.etcd.lock_keys(), timeout=30,
                      what='the stopped holder\'s lease to run out')
        other = self.osc(*(base.CREATE + ('--client-token', token, name,
                                          '-f', 'json')),
                         env=self.host_env('other', env))
        self.assertOK(other)
        os.kill(holder.pid, signal.SIGCONT)
        shown = self.printed([holder]) + [json.loads(other.stdout)]
        # Both sent a create: the lock was lost, the settle step saved it.
        self.assertEqual(2, self.proxy.count('POST', r'/servers$'))
        self.assertOneServerPrintedByAll(name, shown)


def _stopped(pid):
    with open('/proc/%d/stat' % pid) as stat:
        return stat.read().rsplit(')', 1)[1].split()[0] == 'T'


class ProxyFixture(fixtures.Fixture):

    def __init__(self, upstream):
        super().__init__()
        self.proxy = proxy_mod.Proxy(upstream)

    def _setUp(self):
        self.proxy.__enter__()
        self.addCleanup(self.proxy.__exit__, None, None, None)
