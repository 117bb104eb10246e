"""``clients.later``: calls sent by a real process of their own, to a real
HTTP server on loopback, while the caller goes on."""

import http.server
import json
import os
import subprocess
import sys
import threading
from unittest import mock

import testtools

from idemclient.clients import later


class Recorder(http.server.ThreadingHTTPServer):
    """Records each request; answers once ``answer`` is set."""

    def __init__(self):
        self.seen = []
        self.arrived = threading.Event()
        self.answer = threading.Event()
        super().__init__(('127.0.0.1', 0), Handler)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server_address[1]


class Handler(http.server.BaseHTTPRequestHandler):

    def do_PATCH(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        self.server.seen.append((self.command, self.path,
                                 dict(self.headers), json.loads(body)))
        self.server.arrived.set()
        self.server.answer.wait(20)
        self.send_response(200)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'{}')

    def log_message(self, *args):
        pass


def adapter(endpoint):
    fake = mock.Mock()
    fake.get_endpoint.return_value = endpoint + '/v2/'
    fake.get_token.return_value = 'secret-token'
    fake.session.verify, fake.session.cert = True, None
    return fake


class TestLater(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.server = Recorder()
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.addCleanup(self.server.answer.set)

    def call(self, path='/images/r1', value='["v1"]'):
        return later.call(adapter(self.server.url), 'PATCH', path,
                          [{'op': 'add', 'path': '/k', 'value': value}],
                          {'Content-Type': 'application/x-test'})

    def test_the_call_is_the_adapters_endpoint_token_and_tls(self):
        self.assertEqual(
            {'method': 'PATCH', 'url': self.server.url + '/v2/images/r1',
             'headers': {'Content-Type': 'application/x-test',
                         'X-Auth-Token': 'secret-token',
                         'Accept': 'application/json',
                         'User-Agent': 'idemclient'},
             'json': [{'op': 'add', 'path': '/k', 'value': '["v1"]'}],
             'verify': True, 'cert': None}, self.call())

    def test_another_process_sends_it_while_the_caller_goes_on(self):
        process = later.spawn([self.call()], hold=False)
        self.addCleanup(process.wait, 30)
        self.assertTrue(self.server.arrived.wait(30), 'nothing arrived')
        # Sent, and still waiting for its answer: the caller went on.
        self.assertIsNone(process.poll())
        [(method, path, headers, body)] = self.server.seen
        self.assertEqual(('PATCH', '/v2/images/r1'), (method, path))
        self.assertEqual('secret-token', headers['X-Auth-Token'])
        self.assertEqual('application/x-test', headers['Content-Type'])
        self.assertEqual('["v1"]', body[0]['value'])
        # A session of its own, its output on /dev/null, and the token
        # on no command line.
        self.assertEqual(process.pid, os.getsid(process.pid))
        self.assertEqual('/dev/null',
                         os.readlink('/proc/%d/fd/1' % process.pid))
        with open('/proc/%d/cmdline' % process.pid, 'rb') as f:
            self.assertNotIn(b'secret-token', f.read())
        self.server.answer.set()
        self.assertEqual(0, process.wait(30))

    def test_held_it_is_sent_once_the_caller_has_ended(self):
        self.server.answer.set()
        caller = subprocess.Popen(
            [sys.executable, '-c', 'import json, sys; '
             'from idemclient.clients import later; '
             'later.spawn(json.loads(sys.argv[1])); sys.stdin.read()',
             json.dumps([self.call()])], stdin=subprocess.PIPE)
        self.addCleanup(caller.wait, 30)
        self.assertFalse(self.server.arrived.wait(2),
                         'sent while the caller still runs')
        caller.stdin.close()  # the caller ends
        self.assertEqual(0, caller.wait(30))
        self.assertTrue(self.server.arrived.wait(30), 'nothing arrived')
        self.assertEqual(['/v2/images/r1'],
                         [path for _, path, _, _ in self.server.seen])

    def test_each_call_is_sent_whatever_became_of_the_one_before(self):
        self.server.answer.set()
        nowhere = dict(self.call(), url='http://127.0.0.1:9/v2/images/r0')
        self.assertEqual([None, 200],
                         later.send([nowhere, self.call('/images/r2')]))
        self.assertEqual(['/v2/images/r2'],
                         [path for _, path, _, _ in self.server.seen])

    def test_where_no_process_starts_nothing_is_sent(self):
        with mock.patch('subprocess.Popen', side_effect=OSError(11, 'no')):
            self.assertIsNone(later.spawn([self.call()]))
        self.assertEqual([], self.server.seen)
