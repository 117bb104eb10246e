"""Retries inside the command, against the local real Neutron, Nova and
Glance behind a proxy that loses answers or answers for the cloud: the
command runs the decision again itself (lookup first), one line on
standard error per retry, and one resource exists. Counted through the
API and the proxy's own record of what reached the cloud."""

import json
import time

from idemclient.tests.functional import base
from idemclient.tests.functional import proxy as proxy_mod
from idemclient.tests.functional import test_network_token

RETRY_LINE = 'trying again in'


class TestRetries(test_network_token.NeutronTestCase):

    def create(self, text, token, env, *options):
        return self.osc('network', 'create', '--description', text,
                        '--client-token', token, *options,
                        'rt-' + self.uid, '-f', 'json', env=env)

    def retry_lines(self, run):
        return [line for line in run.stderr.splitlines()
                if RETRY_LINE in line]

    def test_a_lost_answer_is_found_by_the_commands_own_retry(self):
        text, token = 'lost ' + self.uid, 'rt-lost-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/networks$', 'drop', times=1)
            run = self.assertOK(self.create(text, token,
                                            self.endpoint_via(proxy)))
            # The cloud made it from the first POST; the retry looked it up
            # and sent none.
            self.assertEqual([201], proxy.statuses('POST', r'/networks$'))
        [line] = self.retry_lines(run)
        self.assertIn("Client token '%s'" % token, line)
        self.assertIn('try 1 of 3 failed', line)
        made = json.loads(run.stdout)
        self.assertEqual('created', made['idemclient_outcome'])
        self.assertOneItem('networks', text, made['id'])

    def test_503s_before_the_cloud_are_retried_until_it_answers(self):
        text, token = 'busy ' + self.uid, 'rt-busy-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/networks$', 'answer', times=2, status=503)
            run = self.assertOK(self.create(text, token,
                                            self.endpoint_via(proxy)))
            self.assertEqual([503, 503, 201],
                             proxy.statuses('POST', r'/networks$'))
        self.assertEqual(2, len(self.retry_lines(run)), run.stderr)
        self.assertIn('try 2 of 3 failed (', self.retry_lines(run)[1])
        self.assertIn('(HTTP 503))', self.retry_lines(run)[1])
        made = json.loads(run.stdout)
        self.assertEqual('created', made['idemclient_outcome'])
        self.assertOneItem('networks', text, made['id'])

    def test_a_429s_retry_after_is_waited(self):
        text, token = 'slow ' + self.uid, 'rt-429-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/networks$', 'answer', times=1, status=429,
                       headers={'Retry-After': '3'})
            start = time.monotonic()
            run = self.assertOK(self.create(text, token,
                                            self.endpoint_via(proxy)))
            elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 3.0)
        [line] = self.retry_lines(run)
        self.assertIn('trying again in 3.0s', line)
        self.assertOneItem('networks', text, json.loads(run.stdout)['id'])

    def test_more_failures_than_tries_end_with_75_and_a_rerun_creates(self):
        text, token = 'down ' + self.uid, 'rt-down-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/networks$', 'answer', status=502)
            run = self.create(text, token, self.endpoint_via(proxy),
                              '--retries', '1')
            self.assertEqual([502, 502],
                             proxy.statuses('POST', r'/networks$'))
        self.assertEqual(75, run.returncode, run.stderr)
        self.assertEqual(1, len(self.retry_lines(run)))
        self.assertIn('After 2 tries: The outcome of the create is unknown',
                      run.stderr)
        self.assertEqual([], self.described('networks', text))
        made = json.loads(self.assertOK(self.create(text, token, None))
                          .stdout)
        self.assertOneItem('networks', text, made['id'])

    def test_zero_retries_from_the_environment_turn_them_off(self):
        text, token = 'off ' + self.uid, 'rt-off-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/networks$', 'drop', times=1)
            env = dict(self.endpoint_via(proxy), IDEMCLIENT_RETRIES='0')
            run = self.create(text, token, env)
            self.assertEqual([201], proxy.statuses('POST', r'/networks$'))
        self.assertEqual(75, run.returncode, run.stderr)
        self.assertEqual([], self.retry_lines(run))
        # The next command finds what the lost answer made.
        again = json.loads(self.assertOK(self.create(text, token, None))
                           .stdout)
        self.assertOneItem('networks', text, again['id'])

    def test_a_reservation_glance_could_not_answer_is_taken_again(self):
        text, token = 'glance ' + self.uid, 'rt-glance-' + self.uid
        with proxy_mod.Proxy(base.image_endpoint()) as proxy:
            proxy.rule('POST', r'/v2/images$', 'answer', times=1,
                       status=503)
            run = self.assertOK(self.create(
                text, token, {'OS_IMAGE_ENDPOINT_OVERRIDE': proxy.url('/')}))
            self.assertEqual([503, 201],
                             proxy.statuses('POST', r'/v2/images$'))
        self.assertEqual(1, len(self.retry_lines(run)), run.stderr)
        self.assertIn('(HTTP 503)', self.retry_lines(run)[0])
        self.assertOneItem('networks', text, json.loads(run.stdout)['id'])


class TestServerRetries(base.FunctionalTestCase):
    """A server's lost answer: the retry's lookup finds the one server."""

    def test_a_lost_server_answer_is_found_by_the_retry(self):
        name, token = 'rt-srv-' + self.uid, 'rt-srv-' + self.uid
        with proxy_mod.Proxy(base.compute_endpoint()) as proxy:
            proxy.rule('POST', r'/servers$', 'drop', times=1)
            run = self.assertOK(self.osc(
                *(base.CREATE + ('--client-token', token, name, '-f',
                                 'json')),
                env={'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')}))
            self.assertEqual(1, len(proxy.statuses('POST', r'/servers$')))
        self.assertIn(RETRY_LINE, run.stderr)
        made = json.loads(run.stdout)
        self.assertEqual('created', made['idemclient_outcome'])
        servers = json.loads(self.assertOK(self.osc(
            'server', 'list', '--name', '^%s$' % name, '-f', 'json')).stdout)
        self.addCleanup(self.osc, 'server', 'delete', made['id'])
        self.assertEqual([made['id']], [s['ID'] for s in servers])


class TestReadTimeout(test_network_token.NeutronTestCase):
    """A read timeout (``api_timeout``: the cloud acted, its answer is
    late): the retry finds what the first create made."""

    def test_a_read_timeout_is_retried_and_the_create_found(self):
        text, token = 'late ' + self.uid, 'rt-late-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/networks$', 'hold', times=1)
            run = self.assertOK(self.osc(
                'network', 'create', '--description', text,
                '--client-token', token, 'rt-' + self.uid, '-f', 'json',
                env=dict(self.endpoint_via(proxy), OS_API_TIMEOUT='3')))
            self.assertEqual([201], proxy.statuses('POST', r'/networks$'))
        [line] = [line for line in run.stderr.splitlines()
                  if RETRY_LINE in line]
        self.assertIn('timed out', line)
        made = json.loads(run.stdout)
        self.assertEqual('created', made['idemclient_outcome'])
        self.assertOneItem('networks', text, made['id'])
