"""A real etcd (Debian's ``etcd-server``) on loopback, for the tests of the
coordination backend: started with a private data directory on free ports,
stopped by its PID. A missing binary fails the test loudly: .ci/run
installs it, and a skip would hide that it did not."""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import fixtures


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Etcd(fixtures.Fixture):

    def _setUp(self):
        binary = shutil.which('etcd')
        if binary is None:
            raise AssertionError('etcd is not installed: apt-get install '
                                 'etcd-server (.ci/run does it)')
        data = tempfile.mkdtemp(prefix='idem-etcd-')
        self.addCleanup(shutil.rmtree, data, True)
        client, peer = free_port(), free_port()
        self.url = 'http://127.0.0.1:%d' % client
        self.log = open(os.path.join(data, 'etcd.log'), 'w')
        self.addCleanup(self.log.close)
        self.proc = subprocess.Popen(
            [binary, '--name', 'idem', '--data-dir', data,
             '--listen-client-urls', self.url,
             '--advertise-client-urls', self.url,
             '--listen-peer-urls', 'http://127.0.0.1:%d' % peer,
             '--initial-advertise-peer-urls', 'http://127.0.0.1:%d' % peer,
             '--initial-cluster', 'idem=http://127.0.0.1:%d' % peer],
            stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(self._stop)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + '/version', timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise AssertionError('etcd did not start: see %s'
                                         % self.log.name)
                time.sleep(0.1)

    def _stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def lock_keys(self):
        """The keys of the locks tooz holds on this etcd now (a lock's key
        goes when its holder releases it or its lease runs out)."""
        prefix = b'/tooz/locks'
        end = prefix[:-1] + bytes([prefix[-1] + 1])
        request = urllib.request.Request(
            self.url + '/v3/kv/range', method='POST', data=json.dumps({
                'key': base64.b64encode(prefix).decode(),
                'range_end': base64.b64encode(end).decode(),
                'keys_only': True}).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            found = json.load(response).get('kvs', [])
        return [base64.b64decode(kv['key']).decode() for kv in found]

    def coordination_url(self, **options):
        query = '&'.join('%s=%s' % kv for kv in sorted(options.items()))
        return 'etcd3+' + self.url + ('?' + query if query else '')
