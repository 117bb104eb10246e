"""Retries inside the command: which failures are tried again, how long
between tries, within which bounds, and what the run-once flow does with
them (a real journal, a Kind whose cloud is a dict)."""

import fixtures
from keystoneauth1 import exceptions as ka_exceptions
import requests
import testtools

from idemclient.clients import errors
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent
from idemclient.core import retry
from idemclient.tests.unit import shared
from idemclient.tests.unit import test_idempotent


def transient(status=503, retry_after=None):
    return errors.ApiError('Service Unavailable', status, None, True,
                           retry_after)


class Clock:
    """A monotonic clock that only the fake sleep moves."""

    def __init__(self):
        self.now = 100.0
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def policy(retries=2, jitter=0.0, clock=None, window=retry.WINDOW_SECONDS):
    clock = clock or Clock()
    return retry.Policy(retries, window, sleep=clock.sleep, clock=clock,
                        jitter=lambda: jitter), clock


class Failing:
    """An attempt that raises ``failures`` in turn, then returns 'done'."""

    def __init__(self, *failures):
        self.failures = list(failures)
        self.calls = []

    def __call__(self, sent):
        self.calls.append(sent)
        if self.failures:
            raise self.failures.pop(0)
        return 'done'


class TestPolicy(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.said = []

    def test_transient_failures_are_tried_again_with_doubling_waits(self):
        run, clock = policy(jitter=0.0)
        attempt = Failing(transient(), transient(502))
        self.assertEqual('done', run.run(attempt, self.said.append, 'T'))
        self.assertEqual(3, len(attempt.calls))
        # Half of 1 s, then half of 2 s: the jitter's low end.
        self.assertEqual([0.5, 1.0], clock.slept)
        self.assertEqual(2, len(self.said))
        self.assertEqual('T: try 1 of 3 failed (Service Unavailable (HTTP '
                         '503)); trying again in 0.5s, looking the request '
                         'up first.', self.said[0])
        self.assertIn('try 2 of 3 failed (Service Unavailable (HTTP 502)); '
                      'trying again in 1.0s', self.said[1])

    def test_the_jitter_spreads_a_wait_up_to_the_whole_backoff(self):
        run, clock = policy(jitter=1.0)
        run.run(Failing(transient(), transient()), self.said.append, 'T')
        self.assertEqual([1.0, 2.0], clock.slept)

    def test_retry_after_is_waited_at_least(self):
        run, clock = policy()
        run.run(Failing(transient(429, retry_after=7.0)), self.said.append,
                'T')
        self.assertEqual([7.0], clock.slept)

    def test_a_retry_after_past_the_window_ends_at_once(self):
        run, clock = policy()
        exc = self.assertRaises(
            errors.Unknown, run.run,
            Failing(transient(429, retry_after=61.0)), self.said.append, 'T')
        self.assertEqual([], clock.slept)
        self.assertEqual([], self.said)
        self.assertIn('Run the same command again', str(exc))

    def test_no_try_starts_after_the_window(self):
        clock = Clock()
        run, _ = policy(retries=10, jitter=1.0, clock=clock)
        attempt = Failing(*[transient()] * 11)
        self.assertRaises(errors.Unknown, run.run, attempt, self.said.append,
                          'T')
        # Waits of 1, 2, 4, 8, 16, 20 s (the cap) end at 51 s: another
        # 20 would start a try at 71 s.
        self.assertEqual([1.0, 2.0, 4.0, 8.0, 16.0, 20.0], clock.slept)
        self.assertEqual(7, len(attempt.calls))

    def test_other_failures_end_at_once(self):
        for failure in (errors.ApiError('Internal error', 500),
                        errors.ApiError('Bad request', 400),
                        errors.Refused('Other parameters'),
                        errors.Unknown('Paused past the lease')):
            run, clock = policy()
            raised = self.assertRaises(type(failure), run.run,
                                       Failing(failure), self.said.append,
                                       'T')
            self.assertIs(failure, raised)
            self.assertEqual([], clock.slept)

    def test_an_unknown_outcome_of_a_transient_failure_is_retried(self):
        unknown = errors.Unknown('outcome unknown', sent=True)
        unknown.__cause__ = transient(504)
        attempt = Failing(unknown)
        run, _ = policy()
        self.assertEqual('done', run.run(attempt, self.said.append, 'T'))
        self.assertEqual([False, True], attempt.calls)  # learnt it was sent

    def test_zero_retries_turns_them_off(self):
        run, clock = policy(retries=0)
        exc = self.assertRaises(errors.Unknown, run.run,
                                Failing(transient()), self.said.append, 'T')
        self.assertEqual(75, exc.exit_status)
        self.assertNotIn('tries', str(exc))
        self.assertEqual(([], []), (clock.slept, self.said))

    def test_the_last_failure_says_how_many_tries(self):
        run, _ = policy(retries=2)
        exc = self.assertRaises(
            errors.Unknown, run.run,
            Failing(transient(), transient(), transient()),
            self.said.append, 'Client token \'T\'')
        self.assertTrue(str(exc).startswith('After 3 tries: Service '
                                            'Unavailable (HTTP 503). Run'),
                        str(exc))
        self.assertTrue(self.said[0].startswith(
            "Client token 'T': try 1 of 3 failed (Service Unavailable"),
            self.said[0])


class TestRetriesFrom(testtools.TestCase):

    def test_option_then_environment_then_clouds_yaml_then_default(self):
        env = {retry.ENV_VAR: '5'}
        config = {retry.CLOUDS_YAML_KEY: 7}
        self.assertEqual(1, retry.retries_from('1', config, env))
        self.assertEqual(5, retry.retries_from(None, config, env))
        self.assertEqual(7, retry.retries_from(None, config, {}))
        self.assertEqual(retry.DEFAULT_RETRIES,
                         retry.retries_from(None, {}, {}))
        self.assertEqual(2, retry.DEFAULT_RETRIES)  # three tries

    def test_zero_is_a_value(self):
        self.assertEqual(0, retry.retries_from('0', {}, {}))
        self.assertEqual(0, retry.retries_from(None, {}, {retry.ENV_VAR:
                                                          '0'}))

    def test_bad_values_say_where(self):
        for option, env, config, where in (
                ('x', {}, {}, '--retries'),
                ('-1', {}, {}, '--retries'),
                ('11', {}, {}, '--retries'),
                (None, {retry.ENV_VAR: 'many'}, {}, '$IDEMCLIENT_RETRIES'),
                (None, {}, {retry.CLOUDS_YAML_KEY: 2.5},
                 'idemclient_retries in clouds.yaml')):
            exc = self.assertRaises(ValueError, retry.retries_from, option,
                                    config, env)
            self.assertTrue(str(exc).startswith(where), str(exc))


class TestTransient(testtools.TestCase):

    def response(self, status, **headers):
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response._content = b'{"message": "busy"}'
        return response

    def test_gateway_statuses_and_429_are_transient(self):
        for status in (429, 502, 503, 504):
            exc = self.assertRaises(errors.ApiError, errors.raise_for_status,
                                    self.response(status), 'Cannot list')
            self.assertTrue(exc.transient, status)
        for status in (400, 404, 409, 500):
            exc = self.assertRaises(errors.ApiError, errors.raise_for_status,
                                    self.response(status), 'Cannot list')
            self.assertFalse(exc.transient, status)

    def test_retry_after_in_seconds_or_as_a_date(self):
        self.assertEqual(12.0, errors.retry_after(
            self.response(429, **{'Retry-After': '12'})))
        self.assertEqual(30.0, errors.retry_after(
            self.response(503, **{'Retry-After':
                                  'Sun, 06 Dec 2026 10:00:30 GMT'}),
            now=1796551200.0))  # 10:00:00 that day
        self.assertIsNone(errors.retry_after(self.response(503)))
        self.assertIsNone(errors.retry_after(
            self.response(503, **{'Retry-After': 'soon'})))

    def test_no_answer_is_transient_a_tls_error_is_not(self):
        for exc, expected in (
                (ka_exceptions.ConnectFailure('reset by peer'), True),
                (ka_exceptions.ConnectTimeout('read timed out'), True),
                (ka_exceptions.SSLError('certificate verify failed'), False),
                (ValueError('a bug'), False)):
            self.assertEqual(expected, errors.sdk_error(exc).transient, exc)

    def test_an_sdk_error_keeps_the_status_and_retry_after(self):
        from openstack import exceptions as sdk_exceptions
        exc = sdk_exceptions.HttpException(
            'Too many', response=self.response(429, **{'Retry-After': '3'}))
        error = errors.sdk_error(exc)
        self.assertEqual((429, True, 3.0), (error.status_code,
                                            error.transient,
                                            error.retry_after))


class Said(list):
    """A command's ``say`` that also keeps how the request ended."""

    outcome = None

    def __call__(self, message):
        self.append(message)


class TestRunOnceRetries(testtools.TestCase):
    """``idempotent.run_once`` with a retry policy: the decision again,
    lookup first."""

    def setUp(self):
        super().setUp()
        self.path = self.useFixture(shared.TempJournal()).path
        self.cloud = test_idempotent.FakeCloud()
        self.said = Said()
        self.useFixture(fixtures.MockPatchObject(idempotent,
                                                 'SETTLE_SECONDS', 0))

    def run_once(self, failures, retries=2):
        request = idempotent.Request(
            'widget.create', shared.SCOPE,
            fp.Fingerprint.of(test_idempotent.PARAMS), 'marker-T', 'T', None)
        kind = Flaky(self.cloud, request, failures)
        run, self.clock = policy(retries)
        return idempotent.run_once(self.path, request, kind, self.said,
                                   retries=run)

    def test_a_lost_answer_is_found_by_the_next_try_and_was_created(self):
        result = self.run_once([('lose', transient(None))])
        self.assertEqual('found:id1', result)
        self.assertEqual(1, len(self.cloud.posts))
        self.assertEqual(1, len(self.cloud.resources))
        self.assertEqual(idempotent.CREATED, self.said.outcome)
        self.assertEqual(1, len(self.clock.slept))

    def test_a_503_before_the_create_is_sent_again_once(self):
        result = self.run_once([('refuse', transient(503)),
                                ('refuse', transient(503))])
        self.assertEqual('created:id3', result)
        self.assertEqual(3, len(self.cloud.posts))
        self.assertEqual(1, len(self.cloud.resources))
        self.assertEqual(idempotent.CREATED, self.said.outcome)

    def test_a_429_is_recorded_failed_then_created(self):
        result = self.run_once([('refuse', transient(429, 2.0))])
        self.assertEqual('created:id2', result)
        self.assertEqual([2.0], self.clock.slept)
        self.assertEqual(1, len(self.cloud.resources))

    def test_a_500_is_not_tried_again(self):
        self.assertRaises(errors.Unknown, self.run_once,
                          [('refuse', errors.ApiError('boom', 500))])
        self.assertEqual(1, len(self.cloud.posts))
        self.assertEqual([], self.clock.slept)

    def test_retries_off_leave_the_entry_pending_for_the_next_command(self):
        exc = self.assertRaises(errors.Unknown, self.run_once,
                                [('lose', transient(None))], 0)
        self.assertTrue(exc.sent)
        self.assertEqual([], self.clock.slept)
        self.assertEqual('found:id1', self.run_once([], 0))
        self.assertEqual(1, len(self.cloud.posts))


class Flaky(test_idempotent.FakeKind):
    """A kind whose creates fail as ``failures`` say, in turn: 'lose' (made,
    answer lost) or 'refuse' (not made) with the error given."""

    def __init__(self, cloud, request, failures):
        super().__init__(cloud, request)
        self.failures = list(failures)

    def send(self, entry):
        if not self.failures:
            return super().send(entry)
        how, error = self.failures.pop(0)
        if how == 'refuse':
            self.cloud.posts.append(entry.request_id)
            raise error
        super().send(entry)
        raise error
