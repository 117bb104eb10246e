"""The crash matrix every kind goes through (servers, Cinder's and
Neutron's kinds): SIGKILL the command at every step, and a
lost response (the POST held at a proxy, the command killed), rerun, and
count through the API: never a duplicate, never a loss."""

import json
import os
import signal

from idemclient.tests.functional import proxy as proxy_mod

TRIALS = int(os.environ.get('IDEMCLIENT_CRASH_TRIALS', '5'))


class CrashMatrix:
    """A mixin; the test case gives ``collection`` (the POST's path),
    ``create_args(name, token)``, ``make(name, token, env=...)``,
    ``assertCreatedOnce(name, token, item_id)``, ``proxy_upstream()`` and
    ``endpoint_via(proxy)``."""

    collection = None

    def before_trial(self):
        """What must be so before each trial (a source volume free)."""

    def _failpoint(self, point):
        for trial in range(TRIALS):
            self.before_trial()
            name = 'kc-%s-%d' % (self.uid, trial)
            token = 'tok-%s-%d' % (self.uid, trial)
            killed = self.make(name, token,
                               env={'IDEMCLIENT_FAILPOINT': point})
            self.assertEqual(-signal.SIGKILL, killed.returncode,
                             killed.stderr)
            item = json.loads(self.assertOK(self.make(name, token)).stdout)
            self.assertCreatedOnce(name, token, item['id'])

    def test_kill_before_journal_commit(self):
        self._failpoint('before-journal-commit')

    def test_kill_after_journal_commit(self):
        self._failpoint('after-journal-commit')

    def test_kill_after_response_came(self):
        self._failpoint('after-response')

    def test_kill_after_post_left(self):
        for trial in range(TRIALS):
            self.before_trial()
            name = 'kl-%s-%d' % (self.uid, trial)
            token = 'tok-%s-%d' % (self.uid, trial)
            with proxy_mod.Proxy(self.proxy_upstream()) as proxy:
                proxy.rule('POST', r'/%s$' % self.collection, 'hold')
                proc = self.start_osc(*self.create_args(name, token),
                                      env=self.endpoint_via(proxy))
                self.assertTrue(proxy.acted.wait(120), 'POST never left')
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            item = json.loads(self.assertOK(self.make(name, token)).stdout)
            self.assertCreatedOnce(name, token, item['id'])
