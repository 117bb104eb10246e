"""``openstack backup reset-state`` against the local real Cinder; every
state is checked through the block-storage API, not the command's output."""

import http.client
import json
import re
import urllib.parse
import uuid

from idemclient.tests.functional import base
from idemclient.tests.functional import proxy as proxy_mod

# How Cinder refuses a microversion above its maximum (its own words, 406).
TOO_NEW = ('Version %s is not supported by the API. Minimum is 3.0 and '
           'maximum is 3.0.')


class OldCinder(proxy_mod.Proxy):
    """The real Cinder seen as a cloud whose maximum microversion is 3.0:
    its version documents say 3.0, and a request asking for more is refused
    with 406 before it reaches Cinder, as an old Cinder refuses it."""

    def _handle(self, handler):
        asked = handler.headers.get('OpenStack-API-Version', '')
        version = asked.split()[-1] if asked else None
        length = int(handler.headers.get('Content-Length') or 0)
        body = handler.rfile.read(length) if length else None
        with self._lock:
            self.seen.append((handler.command, handler.path, version, asked))
        if version and version != '3.0':
            return self._answer(handler, 406, {'computeFault': {
                'code': 406, 'message': TOO_NEW % version}})
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        conn.request(handler.command, handler.path, body, {
            k: v for k, v in handler.headers.items()
            if k.lower() not in proxy_mod.HOP_BY_HOP})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        if re.fullmatch(r'/(v3/?)?', urllib.parse.urlsplit(
                handler.path).path) and response.status == 200:
            doc = json.loads(data)
            for v in doc.get('versions', [doc.get('version', {})]):
                if v.get('id') == 'v3.0':
                    v['version'] = '3.0'
            data = json.dumps(doc).encode()
        self._answer(handler, response.status, data, response.reason,
                     response.getheaders())

    @staticmethod
    def _answer(handler, status, data, reason=None, headers=()):
        if not isinstance(data, bytes):
            data = json.dumps(data).encode()
        handler.send_response_only(status, reason)
        headers = [(k, v) for k, v in headers if k.lower() not in
                   proxy_mod.HOP_BY_HOP | {'content-length', 'content-type'}]
        for key, value in headers + [('Content-Type', 'application/json')]:
            handler.send_header(key, value)
        handler.send_header('Content-Length', str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


class TestBackupResetState(base.FunctionalTestCase):

    def endpoint(self, user='admin'):
        return base.session_for(user).get_endpoint(
            service_type='block-storage', interface='public')

    def volume_api(self, method, path, user='admin', **kwargs):
        return base.session_for(user).request(
            self.endpoint(user) + path, method, raise_exc=False,
            headers={'OpenStack-API-Version': 'volume 3.0'}, **kwargs)

    def status(self, backup_id, user='admin'):
        return self.volume_api('GET', '/backups/%s' % backup_id,
                               user).json()['backup']['status']

    def wait_status(self, path, key, want, user='admin'):
        def current():
            return self.volume_api('GET', path, user).json()[key]['status']
        self.wait_for(lambda: current() == want, timeout=60,
                      what='%s to become %s' % (path, want))

    def make_backup(self, user='admin', name=None):
        name = name or 'bk-' + uuid.uuid4().hex[:8]
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
        result = self.assertOK(self.osc('backup', 'reset-state', '--wait',
                                        backup_id))
        self.assertEqual('available', self.status(backup_id))
        self.assertIn('available', result.stderr)  # the progress

    def test_without_wait_nothing_is_printed_and_cinder_applies_it(self):
        backup_id, _ = self.make_backup()
        result = self.assertOK(self.osc('backup', 'reset-state', '--state',
                                        'error', backup_id))
        self.assertEqual(('', ''), (result.stdout, result.stderr))
        self.wait_status('/backups/%s' % backup_id, 'backup', 'error')

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
        self.assertIn('HTTP 404', result.stderr)
        self.assertEqual('1 of 1 backups failed to reset.',
                         result.stderr.splitlines()[-1])
        self.assertNotIn('Traceback', result.stderr)

    def test_several_with_one_failing_keeps_going(self):
        first, _ = self.make_backup()
        second, _ = self.make_backup()
        result = self.osc('backup', 'reset-state', '--state', 'error',
                          '--wait', first, 'no-such-backup-' + self.uid,
                          second)
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertEqual('1 of 3 backups failed to reset.',
                         result.stderr.splitlines()[-1])
        self.assertIn('Failed to reset the state of backup no-such-backup-%s: '
                      % self.uid, result.stderr)
        self.assertEqual(('error', 'error'),
                         (self.status(first), self.status(second)))

    def test_a_name_shared_by_two_backups_is_refused(self):
        name = 'twin-' + self.uid
        first, _ = self.make_backup(name=name)
        second, _ = self.make_backup(name=name)
        result = self.osc('backup', 'reset-state', '--state', 'error', name)
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertIn('More than one backup', result.stderr)
        self.assertEqual('1 of 1 backups failed to reset.',
                         result.stderr.splitlines()[-1])
        self.assertEqual(('available', 'available'),
                         (self.status(first), self.status(second)))

    def test_bad_state_is_a_usage_error_and_changes_nothing(self):
        backup_id, _ = self.make_backup()
        result = self.osc('backup', 'reset-state', '--state', 'creating',
                          backup_id)
        self.assertEqual(2, result.returncode, result.stdout)
        self.assertIn("invalid choice: 'creating'", result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        self.assertEqual('available', self.status(backup_id))

    def test_works_on_a_cloud_whose_maximum_is_3_0(self):
        backup_id, _ = self.make_backup()
        upstream = urllib.parse.urlsplit(self.endpoint())
        with OldCinder('%s://%s' % (upstream.scheme,
                                    upstream.netloc)) as cinder:
            env = {'OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE':
                   cinder.url(upstream.path)}
            result = self.assertOK(self.osc(
                'backup', 'reset-state', '--state', 'error', '--wait',
                backup_id, env=env))
            sent = [(m, v) for m, p, v, _ in cinder.seen if '/backups' in p]
        self.assertEqual('error', self.status(backup_id))
        self.assertIn(('POST', '3.0'), sent)
        self.assertEqual({'3.0'}, {v for _, v in sent}, sent)
        self.assertEqual('', result.stdout)
