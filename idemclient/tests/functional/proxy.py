"""A loopback HTTP proxy in front of one service, for losing responses.

It forwards each request to the real service and, for requests matching a
rule, can count them, *hold* the answer (the client waits forever, as when
the network dies after the cloud acted) or *drop* it (the connection closes
without a response). The cloud has acted in every case: that is the point.
"""

import http.client
import http.server
import re
import threading
import urllib.parse

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

    def rule(self, method, path_regex, action):
        """action: 'count', 'hold' or 'drop' (first matching rule wins)."""
        self.rules.append((method, re.compile(path_regex), action))

    def count(self, method, path_regex):
        pattern = re.compile(path_regex)
        with self._lock:
            return sum(1 for m, p, _, _ in self.seen
                       if m == method and pattern.search(p))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def _action(self, method, path):
        for rule_method, pattern, action in self.rules:
            if rule_method == method and pattern.search(path):
                return action
        return 'pass'

    def _handle(self, handler):
        length = int(handler.headers.get('Content-Length') or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() not in HOP_BY_HOP}
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        conn.request(handler.command, handler.path, body, headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        action = self._action(handler.command, handler.path)
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
