"""SIGKILL ``openstack server create --client-token`` at every step
(``crash_matrix``), while it settles and during ``--wait``, rerun, and
count the servers through the API: never a duplicate, never a loss."""

import json
import os
import signal

from idemclient.tests.functional import base
from idemclient.tests.functional import crash_matrix
from idemclient.tests.functional import proxy as proxy_mod

TRIALS = crash_matrix.TRIALS
# The local Nova's hook for a slow build (cloud/nova_peer.py), long enough
# for ``--wait`` to be seen polling: OSC polls every 5 s, after the settle.
BUILD_KEY = 'idemclient-test:build-seconds'
BUILD_SECONDS = 15


class TestCrashMatrix(crash_matrix.CrashMatrix, crash_matrix.SetsAsSets,
                      crash_matrix.OneCreateAcrossHosts,
                      base.FunctionalTestCase):

    collection = 'servers'
    unordered_args = (('--tag', 'a', '--tag', 'b', '--tag', 'c'),
                      ('--tag', 'c', '--tag', 'a', '--tag', 'b'))
    unordered_env = {'OS_COMPUTE_API_VERSION': '2.52'}  # server tags

    def create_args(self, name, token):
        return base.CREATE + ('--client-token', token, name)

    # The settle step runs where no reservation is held: its points are
    # killed at with reservations off (``--no-reservation``'s variable).
    hosts_env = {}

    def make(self, name, token, env=None, journal=None):
        return self.osc(*(self.create_args(name, token) + ('-f', 'json')),
                        env=dict(self.hosts_env, **(env or {})),
                        journal=journal)

    def rerun_until_done(self, name, token, *extra, **kwargs):
        kwargs['env'] = dict(self.hosts_env, **(kwargs.get('env') or {}))
        server = self.create_server(name, '--client-token', token, *extra,
                                    **kwargs)
        self.assertIsInstance(server, dict, getattr(server, 'stderr', ''))
        return server

    def assertOneServer(self, name, server_id):
        servers = self.servers_named(name)
        self.assertEqual([server_id], [s['id'] for s in servers],
                         'duplicate or lost server for %s' % name)

    def assertCreatedOnce(self, name, token, server_id):
        """One server, printed again by one more rerun."""
        self.assertOneServer(name, server_id)
        self.assertEqual(server_id,
                         self.rerun_until_done(name, token)['id'])
        self.assertOneServer(name, server_id)

    def held(self, name):
        return [s['id'] for s in self.servers_named(name)]

    def proxy_upstream(self):
        return base.compute_endpoint()

    def endpoint_via(self, proxy):
        return {'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')}

    def test_kill_after_the_settle_listing(self):
        self.hosts_env = {'IDEMCLIENT_RESERVATIONS': 'off'}
        self.kill_trials('settle-after-list')

    def test_kill_when_settled_before_recording(self):
        self.hosts_env = {'IDEMCLIENT_RESERVATIONS': 'off'}
        self.kill_trials('settle-before-record')

    def test_kill_during_wait(self):
        """Killed while ``--wait`` polls the status: the create recorded,
        a status GET seen at the proxy, and the server still BUILD (the
        local Nova builds it slowly, see cloud/nova_peer.py) both before
        and after the kill."""
        slow = ('--property', BUILD_KEY + '=%d' % BUILD_SECONDS)
        for trial in range(TRIALS):
            name = 'wait-%s-%d' % (self.uid, trial)
            token = 'tok-%s-%d' % (self.uid, trial)
            journal = os.path.join(self.tmp, 'wait-%d.sqlite' % trial)
            with proxy_mod.Proxy(self.proxy_upstream()) as proxy:
                proc = self.start_osc(*(base.CREATE + slow + (
                    '--wait', '--client-token', token, name)),
                    journal=journal, env=self.endpoint_via(proxy))
                [entry] = self.wait_for(lambda: [
                    e for e in self.journal_entries(journal)
                    if e['state'] == 'done'], timeout=120, interval=0.05,
                    what='the create to be recorded')
                [server_id] = json.loads(entry['resource_ids'])
                self.wait_for(lambda: proxy.count(
                    'GET', r'/servers/%s$' % server_id), timeout=60,
                    interval=0.05, what='a status poll')
                self.assertEqual('BUILD', self.status(server_id))
                self.assertIsNone(proc.poll(), 'finished before the kill')
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            self.assertEqual('BUILD', self.status(server_id))
            server = self.rerun_until_done(name, token, *slow + ('--wait',),
                                           journal=journal)
            self.assertEqual((server_id, 'ACTIVE'),
                             (server['id'], server['status']))
            self.assertOneServer(name, server['id'])

    def status(self, server_id):
        return self.compute('GET', '/servers/' + server_id).json()[
            'server']['status']


class TestConcurrent(base.FunctionalTestCase):

    def test_eight_processes_one_token_one_post(self):
        name, token = 'conc-' + self.uid, 'tok-' + self.uid
        endpoint = base.compute_endpoint()
        with proxy_mod.Proxy(endpoint) as proxy:
            outputs = self.queued(
                8, proxy, 'POST', r'/servers$', *(base.CREATE + (
                    '--client-token', token, name, '-f', 'value', '-c',
                    'id')),
                env={'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')})
            posts = proxy.count('POST', r'/servers$')
        self.assertEqual(1, posts)
        self.assertEqual(1, len(set(outputs)), outputs)
        self.assertOneServer(name, outputs[0])

    assertOneServer = TestCrashMatrix.assertOneServer
