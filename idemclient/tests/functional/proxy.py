"""A loopback HTTP proxy in front of one service, for losing responses and
for showing races real.

It forwards each request to the real service and, for requests matching a
rule, can count them, *hold* the answer (the client waits forever, as when
the network dies after the cloud acted) or *drop* it (the connection closes
without a response): the cloud has acted in both. A *gather* rule holds
matching requests before they go on, until ``count`` of them are held at
once, and then lets them all go: proof that that many clients were at that
step together, not one after another (``gathered`` says how many were).
A *gate* rule holds matching requests before they go on until the test
calls ``open_gate()`` (``gated`` counts them). An *answer* rule answers
matching requests itself with a ``status`` (and ``headers``), without
forwarding them: the cloud never sees them. A rule given ``times``
applies to that many matching requests, and lets the later ones pass.
"""

import http.client
import http.server
import re
import threading
import time
import urllib.parse

GATHER_SECONDS = 120
HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-connection',
              'transfer-encoding', 'te', 'trailer', 'upgrade'}


class Proxy:
    """``Proxy(upstream_url)``; ``rule(method, path_regex, action)``."""

    def __init__(self, upstream):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname, parsed.port or 80)
        self.rules = []
        self.seen = []          # (method, path, status, action)
        self.acted = threading.Event()  # a held/dropped request was answered
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._gathering = threading.Condition(self._lock)
        self._held = 0
        self.gathered = 0  # the most requests a gather rule held at once
        self._gate = threading.Event()
        self.gated = 0     # requests a gate rule held
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def _any(self):
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _any

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        daemon=True)

    def url(self, path=''):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def rule(self, method, path_regex, action, count=None, times=None,
             status=None, headers=None):
        """action: 'count', 'hold', 'drop', 'gather' (with ``count``),
        'gate' or 'answer' (with ``status``, ``headers``); the first
        matching rule wins; one with ``times`` only for that many."""
        self.rules.append({'method': method, 'path': re.compile(path_regex),
                           'action': action, 'count': count,
                           'times': times, 'status': status,
                           'headers': headers or {}})

    def count(self, method, path_regex):
        return len(self.statuses(method, path_regex))

    def statuses(self, method, path_regex):
        """The status of every answer to a matching request, in order."""
        pattern = re.compile(path_regex)
        with self._lock:
            return [status for m, p, status, _ in self.seen
                    if m == method and pattern.search(p)]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def _action(self, method, path):
        with self._lock:
            for rule in self.rules:
                if rule['method'] != method or not rule['path'].search(path):
                    continue
                if rule['times'] is not None:
                    if rule['times'] <= 0:
                        continue
                    rule['times'] -= 1
                return rule
        return {'action': 'pass', 'count': None}

    def open_gate(self):
        """Let the requests a gate rule holds, and any later, go on."""
        self._gate.set()

    def _gather(self, count):
        """Hold this request until ``count`` are held (or the time is up:
        the test then sees fewer gathered)."""
        deadline = time.monotonic() + GATHER_SECONDS
        with self._gathering:
            self._held += 1
            self.gathered = max(self.gathered, self._held)
            self._gathering.notify_all()
            while self.gathered < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._gathering.wait(left)
            self._held -= 1

    def _handle(self, handler):
        length = int(handler.headers.get('Content-Length') or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() not in HOP_BY_HOP}
        rule = self._action(handler.command, handler.path)
        action, count = rule['action'], rule['count']
        if action == 'answer':
            self._answer(handler, rule)
            return
        if action == 'gather':
            self._gather(count)
        elif action == 'gate':
            with self._lock:
                self.gated += 1
            self._gate.wait(GATHER_SECONDS)
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        conn.request(handler.command, handler.path, body, headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        with self._lock:
            self.seen.append((handler.command, handler.path,
                              response.status, action))
        if action in ('hold', 'drop'):
            self.acted.set()
            if action == 'hold':
                self._release.wait()
            handler.close_connection = True
            return
        handler.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() != \
                    'content-length':
                handler.send_header(key, value)
        handler.send_header('Content-Length', str(len(data)))
        handler.end_headers()
        if handler.command != 'HEAD':
            handler.wfile.write(data)

    def _answer(self, handler, rule):
        """Answer for the cloud, which never sees the request."""
        with self._lock:
            self.seen.append((handler.command, handler.path,
                              rule['status'], 'answer'))
        data = b'{"message": "answered by the test proxy"}'
        handler.send_response_only(rule['status'])
        for key, value in rule['headers'].items():
            handler.send_header(key, value)
        handler.send_header('Content-Type', 'application/json')
        handler.send_header('Content-Length', str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
