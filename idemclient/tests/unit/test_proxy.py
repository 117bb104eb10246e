"""The functional tests' proxy: its gather rule is what shows a race real,
so it must tell hosts that overlapped from hosts that ran in turn."""

import http.client
import http.server
import threading
import time
import urllib.error
import urllib.request

import fixtures
import testtools

from idemclient.tests.functional import proxy as proxy_mod


class Upstream(fixtures.Fixture):
    """A loopback service that answers every POST 201."""

    def _setUp(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get('Content-Length', 0)))
                self.send_response(201)
                self.send_header('Content-Length', '0')
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]


class ProxyTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'idemclient.tests.functional.proxy.GATHER_SECONDS', 1))
        upstream = self.useFixture(Upstream())
        self.proxy = proxy_mod.Proxy(upstream.url)
        self.proxy.__enter__()
        self.addCleanup(self.proxy.__exit__, None, None, None)

    def post(self):
        request = urllib.request.Request(self.proxy.url('/things'), b'{}',
                                         method='POST')
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status


class TestGather(ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.proxy.rule('POST', r'/things$', 'gather', 3)

    def test_overlapping_requests_are_gathered_then_all_sent(self):
        statuses = []
        threads = [threading.Thread(target=lambda: statuses.append(
            self.post())) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual((3, [201] * 3, [201] * 3), (
            self.proxy.gathered, statuses,
            self.proxy.statuses('POST', r'/things$')))

    def test_requests_in_turn_are_never_gathered(self):
        self.assertEqual([201, 201, 201], [self.post() for _ in range(3)])
        self.assertEqual(1, self.proxy.gathered)


class TestGate(ProxyTestCase):
    """A gate rule holds a request until the test opens it."""

    def test_a_gated_request_goes_on_only_when_the_gate_opens(self):
        self.proxy.rule('POST', r'/held$', 'gate')
        request = urllib.request.Request(self.proxy.url('/held'), b'{}',
                                         method='POST')
        answered = []
        thread = threading.Thread(target=lambda: answered.append(
            urllib.request.urlopen(request, timeout=30).status))
        thread.start()
        deadline = time.monotonic() + 30
        while not self.proxy.gated and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(([], 1), (answered, self.proxy.gated))
        self.proxy.open_gate()
        thread.join(30)
        self.assertEqual([201], answered)


class TestAnswerAndTimes(ProxyTestCase):
    """An answer rule stands in for the cloud; ``times`` limits a rule."""

    def test_answered_requests_never_reach_the_cloud(self):
        self.proxy.rule('POST', r'/things$', 'answer', times=2, status=503,
                        headers={'Retry-After': '4'})
        errors = []
        for _ in range(2):
            try:
                self.post()
            except urllib.error.HTTPError as exc:
                errors.append((exc.code, exc.headers.get('Retry-After')))
        self.assertEqual([(503, '4'), (503, '4')], errors)
        self.assertEqual(201, self.post())
        # The upstream answers 201: only the third was forwarded.
        self.assertEqual([503, 503, 201],
                         self.proxy.statuses('POST', r'/things$'))
        self.assertEqual(['answer', 'answer', 'pass'],
                         [action for *_, action in self.proxy.seen])

    def test_a_drop_rule_with_times_drops_only_that_many(self):
        self.proxy.rule('POST', r'/things$', 'drop', times=1)
        self.assertRaises(http.client.RemoteDisconnected, self.post)
        self.assertEqual(201, self.post())
        self.assertEqual([201, 201], self.proxy.statuses('POST', r'/things$'))
