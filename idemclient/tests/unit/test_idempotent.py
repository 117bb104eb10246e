"""The run-once flow on a real journal, with a Kind whose cloud is a dict."""

import logging
import os
from unittest import mock

import fixtures
import testtools

from idemclient.clients import errors
from idemclient import contract
from idemclient.core.errors import IdemError
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent
from idemclient.core import journal as jmod
from idemclient.core.token import Scope
from idemclient.tests.unit import shared

SCOPE = shared.SCOPE
PARAMS = {'name': 'web1', 'flavor_id': '1', 'image_id': 'img'}


class FakeCloud:
    """What a cloud holds, by marker; and what was sent to it."""

    def __init__(self):
        self.resources = {}   # marker -> (id, fingerprint)
        self.posts = []
        self.fail_with = None  # ApiError to raise on send
        self.lose_response = False


class FakeKind(contract.Kind):
    noun = 'widget'

    def __init__(self, cloud, request, secret=None):
        self.cloud = cloud
        self.request = request
        self.secret = secret
        self.bound_to = 'unbound'

    def bind(self, entry):
        self.bound_to = entry
        return self.secret

    def find(self, request):
        if request.marker not in self.cloud.resources:
            return None
        rid, recorded = self.cloud.resources[request.marker]
        return idempotent.Found('found:' + rid, [rid], recorded)

    def fetch(self, resource_ids):
        for rid, _ in self.cloud.resources.values():
            if rid == resource_ids[0]:
                return 'fetched:' + rid
        return None

    def send(self, entry):
        self.cloud.posts.append(entry.request_id)
        if self.cloud.fail_with:
            raise self.cloud.fail_with
        rid = 'id%d' % len(self.cloud.posts)
        self.cloud.resources[self.request.marker] = (
            rid, self.request.fingerprint)
        if self.cloud.lose_response:
            raise errors.ApiError('read timeout')
        return 'created:' + rid, [rid], 'req-cloud'


class TestRunOnce(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.path = self.useFixture(shared.TempJournal()).path
        self.cloud = FakeCloud()
        self.said = []

    def run_once(self, params=PARAMS, token='T', task_tag=None,
                 scope=SCOPE, secret=None):
        request = idempotent.Request('widget.create', scope,
                                     fp.Fingerprint.of(params),
                                     'marker-%s-%s' % (scope.key[:4], token),
                                     token, task_tag)
        self.kind = FakeKind(self.cloud, request, secret)
        return idempotent.run_once(self.path, request, self.kind,
                                   self.said.append)

    def entry(self, token='T'):
        with jmod.Journal.open(self.path) as journal:
            return journal.find(SCOPE.key, 'widget.create', 'token:' + token)

    def test_first_run_sends_once_and_records(self):
        self.assertEqual('created:id1', self.run_once())
        entry = self.entry()
        self.assertEqual(('done', ['id1'], 'req-cloud'),
                         (entry.state, entry.resource_ids,
                          entry.response_request_id))
        self.assertEqual([entry.request_id], self.cloud.posts)

    def test_debug_log_tells_the_lookup_the_journal_and_the_outcome(self):
        log = self.useFixture(fixtures.FakeLogger(name='idemclient',
                                                  level=logging.DEBUG))
        self.run_once()
        entry = self.entry()
        self.assertIn("client token 'T': lookup of marker marker-%s-T found "
                      'nothing' % SCOPE.key[:4], log.output)
        self.assertIn("journaled attempt 1 of entry %s (request id %s)"
                      % (entry.uuid, entry.request_id), log.output)
        self.assertIn("created ['id1'] (cloud request id req-cloud)",
                      log.output)
        self.run_once()
        self.assertIn('journal entry %s, done' % entry.uuid, log.output)

    def test_retry_sends_nothing_and_returns_the_same(self):
        self.run_once()
        self.assertEqual('fetched:id1', self.run_once())
        self.assertEqual(1, len(self.cloud.posts))
        # The token keeps its case: 'T', not str.capitalize()'s 't'.
        self.assertEqual("Client token 'T': widget id1 was already created; "
                         'no create was sent.', self.said[-1])

    def test_retry_with_other_parameters_is_refused_naming_them(self):
        self.run_once()
        exc = self.assertRaises(IdemError, self.run_once,
                                dict(PARAMS, flavor_id='2', name='x'))
        self.assertEqual("Client token 'T' was already used on this host "
                         'with other parameters; different: flavor_id, name. '
                         'Nothing was sent: repeat the first command '
                         'exactly, or use a new token.', str(exc))
        self.assertEqual(1, len(self.cloud.posts))

    def test_other_host_finds_it_on_the_cloud(self):
        self.run_once()
        os.unlink(self.path)  # a host with an empty journal
        self.assertEqual('found:id1', self.run_once())
        self.assertEqual(1, len(self.cloud.posts))
        self.assertEqual(('done', ['id1'], 0),
                         (self.entry().state, self.entry().resource_ids,
                          self.entry().attempts))

    def test_other_host_with_other_parameters_is_refused(self):
        self.run_once()
        os.unlink(self.path)
        exc = self.assertRaises(IdemError, self.run_once,
                                dict(PARAMS, image_id='other'))
        self.assertTrue(str(exc).startswith(
            "Client token 'T' was already used on the cloud with other "
            'parameters; different: image_id.'), str(exc))
        self.assertEqual(1, len(self.cloud.posts))
        self.assertIsNone(self.entry())

    def test_client_error_marks_failed_and_frees_the_token(self):
        self.cloud.fail_with = errors.ApiError('Invalid flavor', 400)
        exc = self.assertRaises(IdemError, self.run_once)
        self.assertIn('Invalid flavor', str(exc))
        self.assertEqual('failed', self.entry().state)
        self.cloud.fail_with = None
        self.assertEqual('created:id2',
                         self.run_once(dict(PARAMS, flavor_id='2')))
        self.assertEqual('done', self.entry().state)

    def test_refused_because_another_run_made_it_adopts_that(self):
        # e.g. over quota because the other host's server exists
        def refused(entry):
            self.cloud.posts.append(entry.request_id)
            self.cloud.resources[self.kind.request.marker] = (
                'theirs', self.kind.request.fingerprint)
            raise errors.ApiError('Quota exceeded', 403)
        self.run_once_with_send(refused)
        self.assertEqual(('done', ['theirs']),
                         (self.entry().state, self.entry().resource_ids))
        self.assertIn('already created', self.said[-1])

    def test_refused_and_nothing_found_is_failed(self):
        def refused(entry):
            raise errors.ApiError('Quota exceeded', 403)
        exc = self.assertRaises(IdemError,
                                self.run_once_with_send, refused)
        self.assertIn('Quota exceeded', str(exc))
        self.assertEqual('failed', self.entry().state)

    def run_once_with_send(self, send):
        with mock.patch.object(FakeKind, 'send', lambda kind, entry: send(
                entry)):
            return self.run_once()

    def test_a_decision_still_owed_keeps_the_coordination_lock(self):
        url = 'file://' + os.path.dirname(self.path)
        settlement = mock.Mock()
        with mock.patch.object(FakeKind, 'settlement', settlement,
                               create=True):
            self.run_once_coordinated(url)
        held = settlement.hold.call_args.args[0]
        self.assertIsNotNone(held._coordinator)
        held.release()

    def test_the_lock_is_released_when_nothing_is_owed(self):
        url = 'file://' + os.path.dirname(self.path)
        released = []
        real = idempotent.coordination.Held.release
        with mock.patch.object(idempotent.coordination.Held, 'release',
                               lambda held: released.append(
                                   held._coordinator) or real(held)):
            self.run_once_coordinated(url)
            self.cloud.fail_with = errors.ApiError('Invalid flavor', 400)
            self.assertRaises(IdemError,
                              self.run_once_coordinated, url, 'U')
        self.assertEqual(2, len([c for c in released if c is not None]))

    def test_an_unreachable_backend_sends_nothing(self):
        exc = self.assertRaises(IdemError,
                                self.run_once_coordinated,
                                'etcd3+http://127.0.0.1:9')
        self.assertIn('Nothing was sent', str(exc))
        self.assertEqual([], self.cloud.posts)
        self.assertIsNone(self.entry())

    def run_once_coordinated(self, url, token='T'):
        request = idempotent.Request(
            'widget.create', SCOPE, fp.Fingerprint.of(PARAMS),
            'marker-' + token, token, None)
        self.kind = FakeKind(self.cloud, request)
        return idempotent.run_once(self.path, request, self.kind,
                                   self.said.append, url)

    def test_lost_response_stays_pending_and_retry_finds_it(self):
        self.cloud.lose_response = True
        exc = self.assertRaises(errors.Unknown, self.run_once)
        self.assertEqual('pending', self.entry().state)
        self.assertEqual('The outcome of the create is unknown (read '
                         'timeout). Run the same command again: it will find '
                         'out, and create nothing twice.', str(exc))
        self.cloud.lose_response = False
        self.assertEqual('found:id1', self.run_once())
        self.assertEqual(1, len(self.cloud.posts))
        self.assertEqual(('done', ['id1']), (self.entry().state,
                                             self.entry().resource_ids))

    def test_server_error_stays_pending(self):
        self.cloud.fail_with = errors.ApiError('boom', 500)
        self.assertRaises(IdemError, self.run_once)
        self.assertEqual('pending', self.entry().state)

    def test_pending_that_never_landed_waits_then_resends(self):
        self.useFixture(fixtures.MonkeyPatch(
            'idemclient.core.idempotent.SETTLE_SECONDS', 0.2))
        self.cloud.fail_with = errors.ApiError('connection reset')
        self.assertRaises(IdemError, self.run_once)
        self.cloud.resources.clear()  # it never reached the cloud
        self.cloud.fail_with = None
        self.assertEqual('created:id2', self.run_once())
        self.assertRegex(self.said[-1], r'^An earlier attempt was sent '
                         r'[0-9.]+s ago; waiting [0-9.]+s for it to '
                         r'land\.\.\.$')
        self.assertEqual(2, self.entry().attempts)

    def test_pending_entry_with_other_parameters_is_refused(self):
        self.cloud.lose_response = True
        self.assertRaises(IdemError, self.run_once)
        self.assertRaises(IdemError, self.run_once,
                          dict(PARAMS, name='other'))
        self.assertEqual(1, len(self.cloud.posts))

    def test_deleted_resource_is_reported(self):
        self.run_once()
        self.cloud.resources.clear()
        exc = self.assertRaises(IdemError, self.run_once)
        self.assertEqual("Client token 'T' created widget id1, which no "
                         'longer exists. Use a new token to create another.',
                         str(exc))
        self.assertEqual(1, len(self.cloud.posts))

    def test_tokens_are_scoped(self):
        self.run_once()
        self.run_once(scope=shared.OTHER_PROJECT)
        self.assertEqual(2, len(self.cloud.posts))

    def test_regions_are_scoped(self):
        one, two = (Scope(SCOPE.auth_url, SCOPE.project_id, SCOPE.user_id,
                          region) for region in ('RegionOne', 'RegionTwo'))
        self.assertEqual('created:id1', self.run_once(scope=one))
        self.assertEqual('created:id2', self.run_once(scope=two))
        self.assertEqual('fetched:id1', self.run_once(scope=one))
        self.assertEqual('fetched:id2', self.run_once(scope=two))
        self.assertEqual(2, len(self.cloud.posts))

    def test_a_token_used_before_regions_is_found_where_it_was_made(self):
        self.run_once()  # no region: as releases before regions
        regional = Scope(SCOPE.auth_url, SCOPE.project_id, SCOPE.user_id,
                         'RegionOne')
        self.assertEqual('fetched:id1', self.run_once(scope=regional))
        self.assertEqual(1, len(self.cloud.posts))
        self.assertIn('widget id1 was already created', self.said[-1])

    def test_in_a_region_without_its_resource_it_is_a_new_request(self):
        self.run_once()
        self.cloud = FakeCloud()  # another region's services
        regional = Scope(SCOPE.auth_url, SCOPE.project_id, SCOPE.user_id,
                         'RegionTwo')
        self.assertEqual('created:id1', self.run_once(scope=regional))
        self.assertEqual(1, len(self.cloud.posts))

    def test_bind_sees_the_entry_and_its_secret_is_kept(self):
        self.cloud.lose_response = True
        self.assertRaises(IdemError, self.run_once,
                          secret='KEY')
        self.assertIsNone(self.kind.bound_to)
        self.assertEqual('KEY', self.entry().secret)
        self.cloud.lose_response = False
        self.run_once(secret=None)
        self.assertEqual('KEY', self.kind.bound_to.secret)

    def test_unusable_journal_sends_nothing(self):
        with open(self.path, 'wb') as f:
            f.write(b'garbage' * 1000)
        exc = self.assertRaises(IdemError, self.run_once)
        self.assertRegex(str(exc), r'^Cannot use the journal .*\. '
                         r'Nothing was sent\.$')
        self.assertEqual([], self.cloud.posts)

    def test_failpoint_after_commit_kills_with_entry_recorded(self):
        import signal
        import subprocess
        import sys
        code = (
            'import sys; sys.path.insert(0, %r)\n'
            'from idemclient.tests.unit import test_idempotent as t\n'
            'case = t.TestRunOnce("test_first_run_sends_once_and_records")\n'
            'case.path = %r; case.cloud = t.FakeCloud(); case.said = []\n'
            'case.run_once()\n' % (os.getcwd(), self.path))
        proc = subprocess.run(
            [sys.executable, '-c', code], capture_output=True,
            env=dict(os.environ, IDEMCLIENT_FAILPOINT='after-journal-commit'))
        self.assertEqual(-signal.SIGKILL, proc.returncode, proc.stderr)
        self.assertEqual('pending', self.entry().state)
