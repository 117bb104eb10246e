"""``openstack backup reset-state`` over a real keystoneauth session with
requests-mock: body, headers, microversion negotiation, errors, summary."""

import io
from unittest import mock

from openstack import connection
from osc_lib import exceptions

from idemclient.clients import block_storage as volume_api
from idemclient.clients import errors
from idemclient.commands import backup as backup_commands
from idemclient.tests.unit import cinder
from idemclient.tests.unit import shared

ROOT, CINDER, versions = cinder.ROOT, cinder.CINDER, cinder.versions
B1, B2, B3 = ('11111111-1111-4111-8111-111111111111',
              '22222222-2222-4222-8222-222222222222',
              '33333333-3333-4333-8333-333333333333')


def error(status, kind, message):
    return {'status_code': status, 'json': {kind: {'message': message,
                                                   'code': status}},
            'headers': {'x-openstack-request-id': 'req-%d' % status}}


class ResetTestCase(cinder.CinderTestCase):

    def setUp(self):
        super().setUp()
        for backup_id, name in ((B1, 'one'), (B2, 'two'), (B3, 'three')):
            self.mock.get(CINDER + '/backups/' + backup_id, json={
                'backup': {'id': backup_id, 'name': name,
                           'status': 'creating'}})
        self.posts = {b: self.mock.post(CINDER + '/backups/%s/action' % b,
                                        status_code=202)
                      for b in (B1, B2, B3)}

    def run_command(self, *argv):
        app = shared.fake_app(sdk_connection=mock.Mock(
            block_storage=self.adapter))
        cmd = backup_commands.ResetBackupState(app, None)
        parsed = cmd.get_parser('backup reset-state').parse_args(argv)
        self.stderr = app.stderr
        return cmd.take_action(parsed)


class TestRequest(ResetTestCase):

    def test_default_state_is_available_and_nothing_is_printed(self):
        self.assertIsNone(self.run_command(B1))
        request = self.posts[B1].last_request
        self.assertEqual({'os-reset_status': {'status': 'available'}},
                         request.json())
        self.assertEqual('tok', request.headers['X-Auth-Token'])
        self.assertEqual('application/json', request.headers['Content-Type'])
        self.assertEqual('', self.stderr.getvalue())

    def test_error_state(self):
        self.run_command('--state', 'error', B1)
        self.assertEqual({'os-reset_status': {'status': 'error'}},
                         self.posts[B1].last_request.json())

    def test_other_states_are_a_usage_error_before_any_request(self):
        app = mock.Mock()
        cmd = backup_commands.ResetBackupState(app, None)
        parser = cmd.get_parser('backup reset-state')
        with mock.patch('sys.stderr', io.StringIO()):
            self.assertRaises(SystemExit, parser.parse_args,
                              ['--state', 'creating', B1])
        self.assertEqual([], self.mock.request_history)

    def test_name_is_resolved(self):
        self.mock.get(CINDER + '/backups/one', **error(
            404, 'itemNotFound', 'Backup one could not be found.'))
        self.mock.get(CINDER + '/backups?name=one', json={'backups': [
            {'id': B1, 'name': 'one'}]})
        self.run_command('one')
        self.assertTrue(self.posts[B1].called)

    def test_unknown_name_is_an_error_and_nothing_is_posted(self):
        self.mock.get(CINDER + '/backups/nope', **error(
            404, 'itemNotFound', 'Backup nope could not be found.'))
        self.mock.get(CINDER + '/backups?name=nope', json={'backups': []})
        exc = self.assertRaises(exceptions.CommandError, self.run_command,
                                'nope')
        self.assertEqual('1 of 1 backups failed to reset.', str(exc))
        self.assertIn("'nope'", self.stderr.getvalue())
        self.assertEqual([], [r for r in self.mock.request_history
                              if r.method == 'POST'])

    def test_ambiguous_name_is_an_error_for_that_backup_only(self):
        self.mock.get(CINDER + '/backups/dup', **error(
            404, 'itemNotFound', 'Backup dup could not be found.'))
        self.mock.get(CINDER + '/backups?name=dup', json={'backups': [
            {'id': B1, 'name': 'dup'}, {'id': B3, 'name': 'dup'}]})
        exc = self.assertRaises(exceptions.CommandError, self.run_command,
                                'dup', B2)
        self.assertEqual('1 of 2 backups failed to reset.', str(exc))
        self.assertIn("Failed to reset the state of backup dup: More than "
                      "one backup is named 'dup'; use its ID.",
                      self.stderr.getvalue())
        self.assertFalse(self.posts[B1].called or self.posts[B3].called)
        self.assertTrue(self.posts[B2].called)


class TestMicroversionOn30(ResetTestCase):
    cloud_max = '3.0'

    def test_sent_at_the_clouds_maximum(self):
        self.run_command(B1)
        self.assertEqual('volume 3.0', self.posts[B1].last_request.headers[
            'OpenStack-API-Version'])


class TestMicroversionOn362(ResetTestCase):
    cloud_max = '3.62'

    def test_not_the_3_64_that_osc_sends(self):
        self.run_command(B1)
        self.assertEqual('volume 3.62', self.posts[B1].last_request.headers[
            'OpenStack-API-Version'])


class TestMicroversionOn371(ResetTestCase):

    def test_newest_we_know(self):
        self.run_command(B1)
        self.assertEqual('volume 3.71', self.posts[B1].last_request.headers[
            'OpenStack-API-Version'])


class TestMicroversionThroughTheSdkProxy(ResetTestCase):
    """OSC hands over openstacksdk's block-storage proxy, not a bare
    Adapter: negotiation must work through it too."""
    cloud_max = '3.0'

    def setUp(self):
        super().setUp()
        self.adapter = connection.Connection(
            session=self.adapter.session,
            block_storage_endpoint_override=CINDER).block_storage

    def test_a_3_0_cloud_gets_3_0(self):
        self.run_command('--state', 'error', B1, B2)
        for backup_id in (B1, B2):
            request = self.posts[backup_id].last_request
            self.assertEqual('volume 3.0',
                             request.headers['OpenStack-API-Version'])
            self.assertEqual({'os-reset_status': {'status': 'error'}},
                             request.json())


class TestMicroversionOnANewerCloud(ResetTestCase):
    cloud_max = '3.80'

    def test_capped_at_the_newest_we_know(self):
        self.run_command(B1)
        self.assertEqual('volume 3.71', self.posts[B1].last_request.headers[
            'OpenStack-API-Version'])


class TestErrors(ResetTestCase):

    def check(self, status, kind, message):
        self.mock.post(CINDER + '/backups/%s/action' % B2,
                       **error(status, kind, message))
        exc = self.assertRaises(exceptions.CommandError, self.run_command,
                                B1, B2, B3)
        self.assertEqual('1 of 3 backups failed to reset.', str(exc))
        lines = self.stderr.getvalue().splitlines()
        self.assertEqual(1, len(lines), lines)
        self.assertIn(message, lines[0])
        self.assertTrue(lines[0].startswith(
            'Failed to reset the state of backup %s: Cannot reset backup %s: '
            % (B2, B2)), lines[0])
        self.assertIn('HTTP %d' % status, lines[0])
        self.assertIn('req-%d' % status, lines[0])
        self.assertTrue(self.posts[B1].called and self.posts[B3].called)

    def test_not_an_admin(self):
        self.check(403, 'forbidden', "Policy doesn't allow volume_extension:"
                   'backup_admin_actions:reset_status to be performed.')

    def test_backup_service_down(self):
        self.check(404, 'itemNotFound',
                   'Service cinder-backup could not be found.')

    def test_invalid_state(self):
        self.check(400, 'badRequest', "Backup status: creating is invalid, "
                   "valid statuses are: ['available', 'error'].")

    def test_unknown_backup_id_is_the_clouds_404(self):
        self.mock.get(CINDER + '/backups/' + B2, **error(
            404, 'itemNotFound', 'Backup %s could not be found.' % B2))
        exc = self.assertRaises(exceptions.CommandError, self.run_command,
                                B2, B1)
        self.assertEqual('1 of 2 backups failed to reset.', str(exc))
        self.assertIn('Failed to reset the state of backup %s: Cannot show '
                      'backup %s: Backup %s could not be found.'
                      % (B2, B2, B2), self.stderr.getvalue())
        self.assertFalse(self.posts[B2].called)
        self.assertTrue(self.posts[B1].called)

    def test_two_of_three(self):
        for backup_id in (B1, B3):
            self.mock.post(CINDER + '/backups/%s/action' % backup_id,
                           **error(400, 'badRequest', 'Invalid backup'))
        exc = self.assertRaises(exceptions.CommandError, self.run_command,
                                B1, B2, B3)
        self.assertEqual('2 of 3 backups failed to reset.', str(exc))
        self.assertEqual(2, len(self.stderr.getvalue().splitlines()))
        self.assertTrue(self.posts[B2].called)

    def test_all_failing(self):
        for backup_id in (B1, B2):
            self.mock.post(CINDER + '/backups/%s/action' % backup_id,
                           **error(403, 'forbidden', 'no'))
        exc = self.assertRaises(exceptions.CommandError, self.run_command,
                                B1, B2)
        self.assertEqual('2 of 2 backups failed to reset.', str(exc))


class TestWait(ResetTestCase):

    def test_polls_until_the_state_shows(self):
        self.mock.get(CINDER + '/backups/' + B1, [
            {'json': {'backup': {'id': B1, 'status': 'creating'}}},
            {'json': {'backup': {'id': B1, 'status': 'creating'}}},
            {'json': {'backup': {'id': B1, 'status': 'available'}}}])
        with mock.patch('time.sleep'):
            self.run_command('--wait', B1)
        gets = [r for r in self.mock.request_history
                if r.method == 'GET' and r.path.endswith(B1.lower())]
        self.assertEqual(3, len(gets))
        self.assertIn('  Backup %s is available.\n' % B1,
                      self.stderr.getvalue())

    def test_a_backup_that_does_not_change_is_reported(self):
        clock = iter(range(0, 10000, 30))
        with mock.patch('time.sleep'), \
                mock.patch('time.monotonic', lambda: next(clock)):
            exc = self.assertRaises(exceptions.CommandError,
                                    self.run_command, '--wait', B1)
        self.assertEqual('1 of 1 backups failed to reset.', str(exc))
        self.assertIn('Backup %s did not become available within 120s.\n'
                      % B1, self.stderr.getvalue())

    def test_a_backup_that_vanishes_while_waiting_is_reported(self):
        self.mock.get(CINDER + '/backups/' + B2, [
            {'json': {'backup': {'id': B2, 'status': 'creating'}}},
            error(404, 'itemNotFound', 'Backup %s could not be found.' % B2)])
        self.mock.get(CINDER + '/backups/' + B1, json={
            'backup': {'id': B1, 'status': 'error'}})
        with mock.patch('time.sleep'):
            exc = self.assertRaises(exceptions.CommandError,
                                    self.run_command, '--state', 'error',
                                    '--wait', B1, B2)
        self.assertEqual('1 of 2 backups failed to reset.', str(exc))
        self.assertIn('Backup %s could not be found.' % B2,
                      self.stderr.getvalue())


class TestClient(ResetTestCase):

    def test_cloud_without_microversions_gets_no_header(self):
        self.mock.get(CINDER, json={'version': {
            'id': 'v3.0', 'status': 'CURRENT',
            'links': [{'rel': 'self', 'href': CINDER}]}})
        for url in (ROOT, ROOT + '/', ROOT + '/v3', ROOT + '/v3/'):
            self.mock.get(url, json={'versions': [{
                'id': 'v3.0', 'status': 'CURRENT',
                'links': [{'rel': 'self', 'href': ROOT + '/v3/'}]}]})
        volume_api.BlockStorageClient(self.adapter).reset_backup_state(
            B1, 'error')
        self.assertNotIn('OpenStack-API-Version',
                         self.posts[B1].last_request.headers)

    def test_unknown_name_reads_as_a_sentence(self):
        self.mock.get(CINDER + '/backups/nope', **error(
            404, 'itemNotFound', 'Backup nope could not be found.'))
        self.mock.get(CINDER + '/backups?name=nope', json={'backups': []})
        exc = self.assertRaises(errors.ApiError, volume_api.BlockStorageClient(
            self.adapter).find_backup, 'nope')
        self.assertEqual("No backup with a name or ID of 'nope' exists.",
                         str(exc))
