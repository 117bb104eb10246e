"""``volume snapshot create`` and ``volume backup create`` with a client
token against the local real Cinder: retries, another host, a crash at
every step and a lost response; every outcome counted through the API."""

import json
import os
import signal

from idemclient.tests.functional import proxy as proxy_mod
from idemclient.tests.functional import test_volume_token

TRIALS = test_volume_token.TRIALS


class CinderKindTests:
    """A kind made from a source volume; subclasses say which (a mixin, so
    that it is not collected as a test case of its own)."""

    collection = None  # REST collection: 'snapshots', 'backups'

    def setUp(self):
        super().setUp()
        self.source = 'src-' + self.uid
        created = self.volume_api('POST', '/volumes', json={
            'volume': {'size': 1, 'name': self.source}}).json()['volume']
        self.addCleanup(self._delete, created['id'], 'admin')
        self.source_id = created['id']
        self.wait_available('volumes', created['id'])

    def wait_available(self, collection, item_id):
        def available():
            body = self.volume_api('GET', '/%s/%s' % (collection, item_id))
            return body.json()[collection[:-1]]['status'] == 'available'
        self.wait_for(available, timeout=120, interval=0.5,
                      what='%s %s' % (collection[:-1], item_id))

    def items_named(self, name):
        found = self.volume_api('GET', '/%s/detail' % self.collection,
                                params={'name': name}).json()[
                                    self.collection]
        found = [item for item in found if item['name'] == name]
        for item in found:
            self.addCleanup(self._delete_item, item['id'])
        return found

    def _delete_item(self, item_id):
        path = '/%s/%s' % (self.collection, item_id)

        def settled():
            body = self.volume_api('GET', path)
            return body.status_code == 404 or body.json()[
                self.collection[:-1]]['status'] not in ('creating',)
        self.wait_for(settled, timeout=120, what=path)
        self.volume_api('DELETE', path)
        self.wait_for(lambda: self.volume_api('GET', path).status_code ==
                      404, timeout=120, what='%s to go' % path)

    def make(self, name, token, journal=None, env=None, fmt='json'):
        return self.osc(*(self.create_args(name, token) + ('-f', fmt)),
                        journal=journal, env=env)

    def assertOneItem(self, name, item_id):
        self.assertEqual([item_id], [i['id'] for i in self.items_named(
            name)], 'duplicate or lost %s for %s' % (self.collection, name))

    def before_trial(self):
        """A source volume busy with the previous trial would refuse."""

    def test_retries_and_another_host_print_one(self):
        name, token = 'k-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(name, token)).stdout)
        again = self.assertOK(self.make(name, token, fmt='value'))
        self.assertIn('no create was sent', again.stderr)
        elsewhere = json.loads(self.assertOK(self.make(
            name, token, journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertEqual(first['id'], elsewhere['id'])
        self.assertOneItem(name, first['id'])

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
            self.assertOneItem(name, item['id'])

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
            with proxy_mod.Proxy(self.upstream()) as proxy:
                proxy.rule('POST', r'/%s$' % self.collection, 'hold')
                proc = self.start_osc(*self.create_args(name, token),
                                      env=self.endpoint_via(proxy))
                self.assertTrue(proxy.acted.wait(120), 'POST never left')
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            item = json.loads(self.assertOK(self.make(name, token)).stdout)
            self.assertOneItem(name, item['id'])


class TestSnapshotToken(CinderKindTests,
                        test_volume_token.VolumeTestCase):

    collection = 'snapshots'

    def create_args(self, name, token):
        return ('volume', 'snapshot', 'create', '--volume', self.source_id,
                '--client-token', token, name)


class TestBackupToken(CinderKindTests, test_volume_token.VolumeTestCase):

    collection = 'backups'

    def create_args(self, name, token):
        return ('volume', 'backup', 'create', '--name', name,
                '--client-token', token, self.source_id)

    def before_trial(self):
        self.wait_available('volumes', self.source_id)
