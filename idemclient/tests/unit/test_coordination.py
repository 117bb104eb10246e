"""The optional cross-host lock, on tooz's real file backend (no server):
the other host is another process holding the same lock."""

import subprocess
import sys
import time
from unittest import mock

import fixtures
import testtools

from idemclient.core import coordination

HOLDER = '''
import sys, time
from tooz import coordination
c = coordination.get_coordinator(sys.argv[1], b'other-host')
c.start()
lock = c.get_lock(sys.argv[2].encode())
if not lock.acquire(blocking=False):
    print('busy', flush=True)
    sys.exit(0)
print('held', flush=True)
sys.stdin.readline()
lock.release()
c.stop()
'''


class TestConfig(testtools.TestCase):

    def test_environment_wins_over_clouds_yaml(self):
        cloud = {coordination.CLOUDS_YAML_KEY: 'redis://cloud:6379'}
        self.assertEqual('etcd3+http://env:2379', coordination.backend_url(
            cloud, {coordination.ENV_VAR: 'etcd3+http://env:2379'}))
        self.assertEqual('redis://cloud:6379',
                         coordination.backend_url(cloud, {}))
        self.assertIsNone(coordination.backend_url({}, {}))

    def test_passwords_never_reach_a_message(self):
        self.assertEqual('redis://:***@h:6379/0?db=1', coordination.redacted(
            'redis://:pw@h:6379/0?db=1'))
        self.assertEqual('etcd3+http://h:2379',
                         coordination.redacted('etcd3+http://h:2379'))

    def test_lock_names_differ_per_scope_operation_and_key(self):
        names = {coordination.lock_name(*parts) for parts in (
            ('s', 'server.create', 'token:T'), ('s2', 'server.create',
                                                'token:T'),
            ('s', 'keypair.create', 'token:T'), ('s', 'server.create',
                                                 'token:U'))}
        self.assertEqual(4, len(names))


class TestAcquire(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.url = 'file://' + self.useFixture(fixtures.TempDir()).path
        self.name = coordination.lock_name('s', 'server.create', 'token:T')

    def other_host_tries(self):
        """Another process takes the lock if it is free: ('held' or
        'busy', the process)."""
        proc = subprocess.Popen(
            [sys.executable, '-c', HOLDER, self.url, self.name.decode()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.stdin.close)
        return proc.stdout.readline().strip(), proc

    def other_host_holds_it(self):
        said, proc = self.other_host_tries()
        self.assertEqual('held', said)
        return proc

    def test_free_lock_is_taken_and_released(self):
        held = coordination.acquire(self.url, self.name)
        self.assertEqual('busy', self.other_host_tries()[0])
        held.release()
        held.release()  # once only: the second does nothing
        said, other = self.other_host_tries()
        self.assertEqual('held', said)  # released: another host takes it
        other.stdin.write('\n')
        other.stdin.flush()
        other.wait()
        again = coordination.acquire(self.url, self.name, timeout=5)
        self.assertEqual('busy', self.other_host_tries()[0])
        again.release()

    def test_held_elsewhere_waits_saying_so_then_takes_it(self):
        proc = self.other_host_holds_it()
        waits = []

        def on_wait():
            waits.append(time.monotonic())
            proc.stdin.write('\n')  # the other host finishes
            proc.stdin.flush()
        held = coordination.acquire(self.url, self.name, on_wait, poll=0.05)
        held.release()
        self.assertEqual(1, len(waits))

    def test_held_too_long_is_an_error(self):
        self.other_host_holds_it()
        exc = self.assertRaises(
            coordination.CoordinationError, coordination.acquire,
            self.url, self.name, timeout=0.3, poll=0.05)
        self.assertIn('held its lock', str(exc))
        self.assertIn('Nothing was sent.', str(exc))

    def test_unreachable_backend_fails_closed(self):
        exc = self.assertRaises(
            coordination.CoordinationError, coordination.acquire,
            'etcd3+http://127.0.0.1:9', self.name)
        self.assertIn('etcd3+http://127.0.0.1:9 cannot be used', str(exc))
        self.assertIn('Nothing was sent.', str(exc))

    def test_without_tooz_says_how_to_install_it(self):
        with mock.patch.dict(sys.modules, {'tooz': None}):
            exc = self.assertRaises(
                coordination.CoordinationError, coordination.acquire,
                'redis://:pw@h:1', self.name)
        self.assertIn('idemclient[etcd]', str(exc))
        self.assertNotIn('pw', str(exc))


class TestImportCost(testtools.TestCase):

    def test_a_run_without_a_backend_never_imports_tooz(self):
        code = ('import sys\n'
                'from idemclient import hooks\n'
                'from idemclient.kinds import server\n'
                'from idemclient.core import idempotent\n'
                'from idemclient.core import coordination\n'
                'coordination.backend_url({}, {})\n'
                'print(sorted(m for m in sys.modules if "tooz" in m))\n')
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True).stdout
        self.assertEqual('[]\n', out)
