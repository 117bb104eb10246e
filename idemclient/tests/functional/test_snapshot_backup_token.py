"""``volume snapshot create`` and ``volume backup create`` with a client
token against the local real Cinder: retries, another host, a crash at
every step and a lost response (``test_volume_token.CinderKindTests``);
every outcome counted through the API."""

import json
import os
import time

from idemclient.tests.functional import test_volume_token


class TestSnapshotToken(test_volume_token.CinderKindTests,
                        test_volume_token.VolumeTestCase):

    collection = 'snapshots'
    unordered_args = (('--property', 'a=1', '--property', 'b=2'),
                      ('--property', 'b=2', '--property', 'a=1'))

    def create_args(self, name, token):
        return ('volume', 'snapshot', 'create', '--volume', self.source_id,
                '--client-token', token, name)


class TestSnapshotTokenAsMember(TestSnapshotToken):
    """As a member, who may filter on nothing on the local Cinder."""

    user = 'demo'


class TestBackupToken(test_volume_token.CinderKindTests,
                      test_volume_token.VolumeTestCase):

    collection = 'backups'

    def create_args(self, name, token):
        return ('volume', 'backup', 'create', '--name', name,
                '--client-token', token, self.source_id)

    def before_trial(self):
        self.wait_available('volumes', self.source_id)


class TestStuckBackup(test_volume_token.VolumeTestCase):
    """Seed 004's problem, made on purpose: the local cloud's backup driver
    (``cloud/sticky_backup.py``) holds a backup of a volume carrying
    ``STICK_KEY`` in ``creating`` until an admin resets it."""

    STICK_KEY = 'idemclient-test:stick-backup'

    def backup_api(self, method, backup_id, **kwargs):
        return self.volume_api(method, '/backups/%s%s' % (
            backup_id, '/action' if method == 'POST' else ''), **kwargs)

    def status_of(self, collection, item_id):
        found = self.volume_api('GET', '/%s/%s' % (collection, item_id))
        return found.json()[collection[:-1]]['status'] \
            if found.status_code == 200 else None

    def release(self, backup_id, volume_id):
        """Unstick the backup if the test did not, then clean up."""
        if self.status_of('backups', backup_id) == 'creating':
            self.backup_api('POST', backup_id, json={
                'os-reset_status': {'status': 'error'}})
        self.wait_for(lambda: self.status_of('volumes', volume_id) ==
                      'available', timeout=120, what='the volume back')
        self.backup_api('DELETE', backup_id)
        self.wait_for(lambda: self.status_of('backups', backup_id) is None,
                      timeout=120, what='the backup to go')

    def test_a_backup_that_stays_creating_is_reported_as_stuck(self):
        volume = self.volume_api('POST', '/volumes', json={'volume': {
            'size': 1, 'name': 'stick-' + self.uid,
            'metadata': {self.STICK_KEY: 'yes'}}}).json()['volume']
        self.addCleanup(self._delete, volume['id'], 'admin')
        self.wait_for(lambda: self.status_of('volumes', volume['id']) ==
                      'available', timeout=120, what='the volume')
        tag = 'nightly-' + self.uid
        made = json.loads(self.assertOK(self.osc(
            'volume', 'backup', 'create', '--client-token', 'tok-' + self.uid,
            '--task-tag', tag, '--name', 'b-' + self.uid, volume['id'],
            '-f', 'json')).stdout)
        self.addCleanup(self.release, made['id'], volume['id'])

        def show(threshold):
            return json.loads(self.assertOK(self.osc(
                'task', 'show', '--tag', tag, '-f', 'json',
                journal=os.path.join(self.tmp, 'another-host'),
                env={'IDEMCLIENT_BACKUP_STUCK_SECONDS': threshold})).stdout)

        time.sleep(4)
        self.assertEqual('creating', self.status_of('backups', made['id']))
        within_the_hour = show('3600')
        self.assertEqual(('accepted', None), (
            within_the_hour['state'], within_the_hour['error']))
        stuck = show('2')
        self.assertEqual(('accepted', made['id']),
                         (stuck['state'], stuck['resource']))
        self.assertIn('The backup has been creating for', stuck['error'])
        self.assertIn('openstack backup reset-state --state error %s'
                      % made['id'], stuck['error'])
        # The way out it names works, and the task then says so.
        self.assertOK(self.osc('backup', 'reset-state', '--state', 'error',
                               made['id']))
        self.wait_for(lambda: show('2')['state'] == 'failed', timeout=60,
                      what='the task to show the reset backup as failed')
        self.wait_for(lambda: self.status_of('volumes', volume['id']) ==
                      'available', timeout=60, what='the volume back')
