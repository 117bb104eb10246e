"""``openstack backup reset-state`` against the local real Cinder; every
state is checked through the block-storage API, not the command's output."""

import uuid

from idemclient.tests.functional import base


class TestBackupResetState(base.FunctionalTestCase):

    def volume_api(self, method, path, user='admin', **kwargs):
        sess = base.session_for(user)
        return sess.request(
            sess.get_endpoint(service_type='block-storage',
                              interface='public') + path, method,
            raise_exc=False, headers={'OpenStack-API-Version': 'volume 3.0'},
            **kwargs)

    def status(self, backup_id, user='admin'):
        return self.volume_api('GET', '/backups/%s' % backup_id,
                               user).json()['backup']['status']

    def wait_status(self, path, key, want, user='admin'):
        def current():
            return self.volume_api('GET', path, user).json()[key]['status']
        self.wait_for(lambda: current() == want, timeout=60,
                      what='%s to become %s' % (path, want))

    def make_backup(self, user='admin'):
        name = 'bk-' + uuid.uuid4().hex[:8]
        volume = self.volume_api('POST', '/volumes', user, json={
            'volume': {'size': 1, 'name': name}}).json()['volume']
        self.addCleanup(self.volume_api, 'DELETE',
                        '/volumes/%s' % volume['id'], user)
        self.wait_status('/volumes/%s' % volume['id'], 'volume', 'available',
                         user)
        backup = self.volume_api('POST', '/backups', user, json={
            'backup': {'volume_id': volume['id'], 'name': name}}).json()[
            'backup']
        # Cleanups run last first: back to available, then delete.
        self.addCleanup(self.volume_api, 'DELETE',
                        '/backups/%s' % backup['id'], user)
        self.addCleanup(self.wait_status, '/backups/%s' % backup['id'],
                        'backup', 'available', user)
        self.addCleanup(self.volume_api, 'POST',
                        '/backups/%s/action' % backup['id'], 'admin',
                        json={'os-reset_status': {'status': 'available'}})
        self.wait_status('/backups/%s' % backup['id'], 'backup', 'available',
                         user)
        return backup['id'], name

    def test_reset_to_error_and_back_by_name_and_id(self):
        backup_id, name = self.make_backup()
        result = self.assertOK(self.osc('backup', 'reset-state', '--state',
                                        'error', '--wait', name))
        self.assertEqual('', result.stdout)
        self.assertEqual('error', self.status(backup_id))
        self.assertOK(self.osc('backup', 'reset-state', '--wait', backup_id))
        self.assertEqual('available', self.status(backup_id))

    def test_member_is_refused_with_the_clouds_message(self):
        backup_id, _ = self.make_backup(user='demo')
        result = self.osc('backup', 'reset-state', '--state', 'error',
                          backup_id, user='demo')
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertIn('Failed to reset the state of backup %s: Cannot reset '
                      'backup %s: ' % (backup_id, backup_id), result.stderr)
        self.assertIn('Policy doesn', result.stderr)
        self.assertIn('HTTP 403', result.stderr)
        self.assertIn('1 of 1 backups failed to reset.', result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        self.assertEqual('available', self.status(backup_id, 'demo'))

    def test_unknown_backup(self):
        missing = str(uuid.uuid4())
        result = self.osc('backup', 'reset-state', missing)
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertIn('Failed to reset the state of backup %s: Cannot show '
                      'backup %s: ' % (missing, missing), result.stderr)
        self.assertIn('Backup %s could not be found' % missing,
                      result.stderr)
        self.assertIn('1 of 1 backups failed to reset.', result.stderr)

    def test_several_with_one_failing_keeps_going(self):
        first, _ = self.make_backup()
        second, _ = self.make_backup()
        result = self.osc('backup', 'reset-state', '--state', 'error',
                          '--wait', first, 'no-such-backup-' + self.uid,
                          second)
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertIn('1 of 3 backups failed to reset.', result.stderr)
        self.assertIn('Failed to reset the state of backup no-such-backup-%s: '
                      % self.uid, result.stderr)
        self.assertEqual(('error', 'error'),
                         (self.status(first), self.status(second)))

    def test_bad_state_is_a_usage_error_and_changes_nothing(self):
        backup_id, _ = self.make_backup()
        result = self.osc('backup', 'reset-state', '--state', 'creating',
                          backup_id)
        self.assertEqual(2, result.returncode, result.stdout)
        self.assertIn("invalid choice: 'creating'", result.stderr)
        self.assertEqual('available', self.status(backup_id))
