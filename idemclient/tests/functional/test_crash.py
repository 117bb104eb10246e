"""SIGKILL ``openstack server create --client-token`` at every step
(``crash_matrix``) and during ``--wait``, rerun, and count the servers
through the API: never a duplicate, never a loss."""

import os
import signal

from idemclient.tests.functional import base
from idemclient.tests.functional import crash_matrix
from idemclient.tests.functional import proxy as proxy_mod

TRIALS = crash_matrix.TRIALS


class TestCrashMatrix(crash_matrix.CrashMatrix, base.FunctionalTestCase):

    collection = 'servers'

    def create_args(self, name, token):
        return base.CREATE + ('--client-token', token, name)

    def make(self, name, token, env=None, journal=None):
        return self.osc(*(self.create_args(name, token) + ('-f', 'json')),
                        env=env, journal=journal)

    def rerun_until_done(self, name, token, *extra, **kwargs):
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

    def proxy_upstream(self):
        return base.compute_endpoint()

    def endpoint_via(self, proxy):
        return {'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')}

    def test_kill_during_wait(self):
        for trial in range(TRIALS):
            name = 'wait-%s-%d' % (self.uid, trial)
            token = 'tok-%s-%d' % (self.uid, trial)
            journal = os.path.join(self.tmp, 'wait-%d.sqlite' % trial)
            proc = self.start_osc(*(base.CREATE + (
                '--wait', '--client-token', token, name)), journal=journal)
            self.wait_for(lambda: any(
                e['state'] == 'done'
                for e in self.journal_entries(journal)),
                timeout=120, interval=0.05, what='the create to be recorded')
            self.assertIsNone(proc.poll(), 'finished before it was killed')
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            server = self.rerun_until_done(name, token, '--wait',
                                           journal=journal)
            self.assertEqual('ACTIVE', server['status'])
            self.assertOneServer(name, server['id'])


class TestConcurrent(base.FunctionalTestCase):

    def test_eight_processes_one_token_one_post(self):
        name, token = 'conc-' + self.uid, 'tok-' + self.uid
        endpoint = base.compute_endpoint()
        with proxy_mod.Proxy(endpoint) as proxy:
            proxy.rule('POST', r'/servers$', 'count')
            procs = [self.start_osc(
                *(base.CREATE + ('--client-token', token, name, '-f',
                                 'value', '-c', 'id')),
                env={'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')})
                for _ in range(8)]
            outputs = self.outputs(procs)
            posts = proxy.count('POST', r'/servers$')
        self.assertEqual(1, posts)
        self.assertEqual(1, len(set(outputs)), outputs)
        self.assertOneServer(name, outputs[0])

    assertOneServer = TestCrashMatrix.assertOneServer
