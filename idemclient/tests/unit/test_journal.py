import multiprocessing
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time

import fixtures
import testtools

from idemclient.core import journal as jmod
from idemclient.tests.unit import shared

SCOPE = shared.SCOPE


def _attempt(journal, key='token:t', fingerprint='f1', **extra):
    return journal.begin_attempt(scope=SCOPE, operation='server.create',
                                 idem_key=key, marker='m',
                                 fingerprint=fingerprint, **extra)


def _hold_lock(path, ready, release):
    journal = jmod.Journal.open(path)
    with journal.lock('k'):
        ready.set()
        release.wait(30)


def _open_and_write(path, key):
    journal = jmod.Journal.open(path)
    entry = _attempt(journal, key=key)
    journal.mark_done(entry.uuid, ['id-' + key])


class JournalTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # below a directory the journal must make (TestOpen checks how)
        self.journal = self.useFixture(shared.TempJournal(
            os.path.join('state', 'journal.sqlite')))
        self.dir, self.path = self.journal.dir, self.journal.path
        self.open = self.journal.open


class TestOpen(JournalTestCase):

    def test_creates_private_directory_and_file(self):
        self.open()
        self.assertEqual(0o700, stat.S_IMODE(
            os.stat(os.path.dirname(self.path)).st_mode))
        self.assertEqual(0o600, stat.S_IMODE(os.stat(self.path).st_mode))

    def test_wal_full_sync_and_schema_version(self):
        journal = self.open()
        conn = journal._conn
        self.assertEqual('wal', conn.execute(
            'PRAGMA journal_mode').fetchone()[0])
        self.assertEqual(2, conn.execute('PRAGMA synchronous').fetchone()[0])
        self.assertEqual(jmod.SCHEMA_VERSION, conn.execute(
            'PRAGMA user_version').fetchone()[0])

    def test_reopen_keeps_entries(self):
        _attempt(self.open())
        self.assertEqual(1, len(jmod.Journal.open(self.path).entries()))

    def test_corrupt_file_is_reported_and_left_untouched(self):
        os.makedirs(os.path.dirname(self.path))
        garbage = b'this is not a database' * 100
        with open(self.path, 'wb') as f:
            f.write(garbage)
        exc = self.assertRaises(jmod.JournalError, jmod.Journal.open,
                                self.path)
        self.assertTrue(str(exc).startswith(
            'Cannot use the journal %s: ' % self.path), str(exc))
        self.assertIn('left as it is', str(exc))
        with open(self.path, 'rb') as f:
            self.assertEqual(garbage, f.read())

    def test_read_only_file_is_reported(self):
        """Opened by a process that may not write the file. Root writes
        any file through its CAP_DAC_OVERRIDE, so as root the open runs in
        a process without it (util-linux's setpriv), as any user's would."""
        self.open().close()
        os.chmod(self.path, 0o400)
        if os.geteuid() != 0:
            exc = self.assertRaises(jmod.JournalError, jmod.Journal.open,
                                    self.path)
            message = str(exc)
        else:
            caps = '-dac_override,-dac_read_search'
            result = subprocess.run(
                ['setpriv', '--inh-caps=' + caps, '--bounding-set=' + caps,
                 sys.executable, '-c', OPEN_AND_SAY, os.getcwd(), self.path],
                capture_output=True, text=True)
            self.assertEqual(0, result.returncode, result.stderr)
            message = result.stdout.strip()
        self.assertRegex(message, r'^Cannot use the journal \S+: it is '
                         r'read-only \(\S+ cannot be written\)$')
        self.assertEqual(0o400, stat.S_IMODE(os.stat(self.path).st_mode))

    def test_newer_schema_is_refused(self):
        self.open().close()
        conn = sqlite3.connect(self.path)
        conn.execute('PRAGMA user_version=99')
        conn.commit()
        conn.close()
        exc = self.assertRaises(jmod.JournalError, jmod.Journal.open,
                                self.path)
        self.assertTrue(str(exc).startswith('Cannot use the journal '),
                        str(exc))
        self.assertIn('newer idemclient', str(exc))

    def test_version_1_journal_is_migrated_keeping_its_entries(self):
        os.makedirs(os.path.dirname(self.path))
        conn = sqlite3.connect(self.path)
        conn.executescript(jmod._MIGRATIONS[1])
        conn.execute(
            "INSERT INTO request (uuid, operation, scope, auth_url, "
            "project_id, user_id, idem_key, marker, fingerprint, state, "
            "created_at, updated_at) VALUES ('u1', 'server.create', 's', "
            "'a', 'p', 'u', 'token:t', 'm', 'f', 'pending', 1, 2)")
        conn.execute('PRAGMA user_version=1')
        conn.commit()
        conn.close()
        journal = self.open()
        entry = journal.get('u1')
        self.assertEqual(('pending', 'token:t', None, None, None),
                         (entry.state, entry.idem_key, entry.target,
                          entry.nonce, entry.reservation))
        self.assertEqual(3, journal._conn.execute(
            'PRAGMA user_version').fetchone()[0])

    def test_a_migrated_pending_entry_gets_a_nonce_on_its_next_attempt(self):
        os.makedirs(os.path.dirname(self.path))
        conn = sqlite3.connect(self.path)
        conn.executescript(jmod._MIGRATIONS[1] + ';' + jmod._MIGRATIONS[2])
        scope = SCOPE
        conn.execute(
            "INSERT INTO request (uuid, operation, scope, auth_url, "
            "project_id, user_id, idem_key, marker, fingerprint, state, "
            "created_at, updated_at) VALUES (?, 'volume.create', ?, "
            "'a', 'p', 'u', 'token:t', 'm', 'f', 'pending', 1, 2)",
            (jmod.entry_id(scope.key, 'volume.create', 'token:t'),
             scope.key))
        conn.execute('PRAGMA user_version=2')
        conn.commit()
        conn.close()
        entry = self.open().begin_attempt(
            scope=scope, operation='volume.create', idem_key='token:t',
            marker='m', fingerprint='f')
        self.assertEqual(32, len(entry.nonce or ''))

    def test_the_nonce_is_kept_across_attempts_the_request_id_is_not(self):
        journal = self.open()
        first = _attempt(journal)
        second = _attempt(journal)
        self.assertEqual(first.nonce, second.nonce)
        self.assertNotEqual(first.request_id, second.request_id)
        other = _attempt(journal, key='token:u')
        self.assertNotEqual(first.nonce, other.nonce)

    def test_the_held_reservation_outlives_the_entrys_outcome(self):
        journal = self.open()
        entry = _attempt(journal)
        journal.hold_reservation(entry.uuid, 'r-1')
        journal.mark_done(entry.uuid, ['id1'])
        done = journal.get(entry.uuid)
        self.assertEqual(('done', 'r-1'), (done.state, done.reservation))

    def test_unwritable_directory(self):
        blocker = os.path.join(self.dir, 'file')
        open(blocker, 'w').close()
        exc = self.assertRaises(jmod.JournalError, jmod.Journal.open,
                                os.path.join(blocker, 'journal.sqlite'))
        self.assertTrue(str(exc).startswith('Cannot create the journal '),
                        str(exc))

    def test_concurrent_first_opens_across_processes(self):
        ctx = multiprocessing.get_context('fork')
        procs = [ctx.Process(target=_open_and_write, args=(self.path, str(i)))
                 for i in range(6)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
            self.assertEqual(0, p.exitcode)
        self.assertEqual(6, len(self.open().entries(state='done')))


class TestDefaultPath(testtools.TestCase):

    def test_environment_variable_wins(self):
        self.assertEqual('/x/j', jmod.default_path(
            {'IDEMCLIENT_JOURNAL': '/x/j', 'XDG_STATE_HOME': '/s'}))

    def test_xdg_state_home(self):
        self.assertEqual('/s/idemclient/journal.sqlite',
                         jmod.default_path({'XDG_STATE_HOME': '/s'}))

    def test_home_fallback(self):
        self.useFixture(fixtures.EnvironmentVariable('HOME', '/home/u'))
        self.assertEqual('/home/u/.local/state/idemclient/journal.sqlite',
                         jmod.default_path({}))


class TestStates(JournalTestCase):

    def test_pending_then_done(self):
        journal = self.open()
        entry = _attempt(journal, client_token='t', task_tag='g')
        self.assertEqual('pending', entry.state)
        self.assertEqual(1, entry.attempts)
        self.assertTrue(entry.request_id.startswith('req-'))
        journal.mark_done(entry.uuid, ['a', 'b'], 'req-cloud')
        done = journal.find(SCOPE.key, 'server.create', 'token:t')
        self.assertEqual(('done', ['a', 'b'], 'req-cloud', 't', 'g'),
                         (done.state, done.resource_ids,
                          done.response_request_id, done.client_token,
                          done.task_tag))

    def test_pending_is_durable_before_return(self):
        journal = self.open()
        _attempt(journal)
        # Another connection (another process would see the same) sees it.
        other = sqlite3.connect(self.path)
        self.assertEqual([('pending',)], other.execute(
            'SELECT state FROM request').fetchall())

    def test_failed_entry_takes_a_new_attempt_with_new_parameters(self):
        journal = self.open()
        first = _attempt(journal)
        journal.mark_failed(first.uuid, 'Invalid flavor (HTTP 400)')
        self.assertEqual('failed', journal.get(first.uuid).state)
        second = _attempt(journal, fingerprint='f2')
        self.assertEqual((first.uuid, 'pending', 'f2', 2, None),
                         (second.uuid, second.state, second.fingerprint,
                          second.attempts, second.error))
        self.assertNotEqual(first.request_id, second.request_id)

    def test_pending_entry_is_retried_in_place(self):
        journal = self.open()
        first = _attempt(journal)
        second = _attempt(journal)
        self.assertEqual(first.uuid, second.uuid)
        self.assertEqual(2, second.attempts)
        self.assertEqual(1, len(journal.entries()))

    def test_done_entry_cannot_be_attempted_again(self):
        journal = self.open()
        entry = _attempt(journal)
        journal.mark_done(entry.uuid, ['a'])
        self.assertRaises(jmod.JournalError, _attempt, journal)

    def test_adopt_records_a_done_entry(self):
        journal = self.open()
        entry = journal.adopt(scope=SCOPE, operation='server.create',
                              idem_key='token:t', marker='m',
                              fingerprint='f', resource_ids=['x'],
                              client_token='t')
        self.assertEqual(('done', ['x'], 0), (entry.state,
                                              entry.resource_ids,
                                              entry.attempts))

    def test_keys_are_per_scope_and_operation(self):
        journal = self.open()
        _attempt(journal)
        journal.begin_attempt(scope=shared.OTHER_PROJECT,
                              operation='server.create', idem_key='token:t',
                              marker='m', fingerprint='f')
        journal.begin_attempt(scope=SCOPE, operation='keypair.create',
                              idem_key='token:t', marker='m',
                              fingerprint='f')
        self.assertEqual(3, len(journal.entries()))

    def test_secret_is_kept_across_attempts(self):
        journal = self.open()
        _attempt(journal, secret='PRIVATE')
        self.assertEqual('PRIVATE', _attempt(journal).secret)

    def test_entries_newest_first_and_by_state(self):
        journal = self.open()
        for key in ('token:a', 'token:b', 'token:c'):
            _attempt(journal, key=key)
        done = journal.find(SCOPE.key, 'server.create', 'token:b')
        journal.mark_done(done.uuid, ['x'])
        self.assertEqual(['token:c', 'token:b', 'token:a'],
                         [e.idem_key for e in journal.entries()])
        self.assertEqual(['token:b'],
                         [e.idem_key for e in journal.entries('done')])

    def test_prune_never_drops_pending(self):
        journal = self.open()
        for key in ('token:a', 'token:b', 'token:c'):
            _attempt(journal, key=key)
        a = journal.find(SCOPE.key, 'server.create', 'token:a')
        b = journal.find(SCOPE.key, 'server.create', 'token:b')
        journal.mark_done(a.uuid, ['x'])
        journal.mark_failed(b.uuid, 'no')
        self.assertEqual(0, journal.delete_finished(time.time() - 3600))
        self.assertEqual(2, journal.delete_finished(time.time() + 1))
        self.assertEqual(['pending'], [e.state for e in journal.entries()])

    def test_unknown_uuid_is_an_error_not_a_silent_no_op(self):
        self.assertRaises(jmod.JournalError, self.open().mark_done,
                          'no-such-uuid', [])


class TestLock(JournalTestCase):

    def test_lock_excludes_other_processes_until_released(self):
        ctx = multiprocessing.get_context('fork')
        ready, release = ctx.Event(), ctx.Event()
        holder = ctx.Process(target=_hold_lock,
                             args=(self.path, ready, release))
        holder.start()
        self.addCleanup(holder.join, 10)
        self.addCleanup(release.set)
        self.assertTrue(ready.wait(10))
        journal = self.open()
        waits = []
        exc = self.assertRaises(
            jmod.JournalError, journal.lock('k', timeout=0.3,
                                            on_wait=lambda: waits.append(1))
            .__enter__)
        self.assertRegex(str(exc), r'^Another run with the same key held '
                         r'its lock for more than \d+s$')
        self.assertEqual([1], waits)
        # another key is free
        with journal.lock('other', timeout=0.3):
            pass
        release.set()
        holder.join(10)
        with journal.lock('k', timeout=5):
            pass

    def test_lock_of_a_killed_holder_is_released(self):
        ctx = multiprocessing.get_context('fork')
        ready, release = ctx.Event(), ctx.Event()
        holder = ctx.Process(target=_hold_lock,
                             args=(self.path, ready, release))
        holder.start()
        self.assertTrue(ready.wait(10))
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(10)
        with self.open().lock('k', timeout=5):
            pass

    def test_lock_file_is_private(self):
        with self.open().lock('k'):
            pass
        self.assertEqual(0o600, stat.S_IMODE(
            os.stat(self.path + '.lock').st_mode))


class TestDiskFull(JournalTestCase):

    def test_full_disk_is_an_error_and_nothing_is_recorded(self):
        journal = self.open()
        pages = journal._conn.execute('PRAGMA page_count').fetchone()[0]
        journal._conn.execute('PRAGMA max_page_count=%d' % pages)
        exc = self.assertRaises(jmod.JournalError, _attempt, journal,
                                secret='x' * 100000)
        self.assertRegex(str(exc), r'^Cannot write to the journal \S+: .*full')
        self.assertEqual([], journal.entries())


# Open the journal at argv[2] (idemclient from argv[1]) and print why not.
OPEN_AND_SAY = """
import sys
sys.path.insert(0, sys.argv[1])
from idemclient.core import journal as jmod
try:
    jmod.Journal.open(sys.argv[2]).close()
except jmod.JournalError as exc:
    print(exc)
"""

# Run in a private mount namespace with a tiny tmpfs at argv[1], filled up
# (or bind-mounted read-only) before the journal copied into it is used.
ON_A_REAL_DISK = """
import os, shutil, subprocess, sys
sys.path.insert(0, %r)
from idemclient.core import journal as jmod
from idemclient.core.token import Scope
mount, source, how = sys.argv[1:4]
subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mount],
               check=True)
path = os.path.join(mount, 'journal.sqlite')
shutil.copy(source, path)
if how == 'full':
    try:
        with open(os.path.join(mount, 'fill'), 'wb') as fill:
            while True:
                fill.write(bytes(4096))
                fill.flush()
    except OSError:
        pass
else:
    subprocess.run(['mount', '-o', 'remount,ro', mount], check=True)
with jmod.Journal.open_for_reading(path) as journal:
    print(len(journal.entries()))
try:
    jmod.Journal.open(path)
except jmod.JournalError as exc:
    print(exc)
"""


class TestReading(JournalTestCase):

    def test_no_journal_is_empty_and_nothing_is_made(self):
        with jmod.Journal.open_for_reading(self.path) as journal:
            self.assertEqual(([], None, []), (
                journal.entries(), journal.get('x'),
                journal.by_task_tag(SCOPE.key, 'g')))
            self.assertEqual(0, journal.delete_finished(time.time()))
        self.assertFalse(os.path.exists(os.path.dirname(self.path)))

    def test_reads_what_was_written_without_writing(self):
        with self.open() as journal:
            _attempt(journal, task_tag='g')
        before = sorted(os.listdir(os.path.dirname(self.path)))
        with jmod.Journal.open_for_reading(self.path) as journal:
            self.assertEqual(['g'], [e.task_tag for e in journal.entries()])
            self.assertRaises(jmod.JournalError, _attempt, journal)
        self.assertEqual(before, sorted(os.listdir(os.path.dirname(
            self.path))))

    def on_a_real_disk(self, how):
        """Needs root (a mount namespace), as CI has."""
        with self.open() as journal:
            for key in ('token:a', 'token:b'):
                _attempt(journal, key=key)
        mount = os.path.join(self.dir, 'mnt')
        os.mkdir(mount)
        code = ON_A_REAL_DISK % os.getcwd()
        result = subprocess.run(
            ['unshare', '-m', sys.executable, '-c', code, mount, self.path,
             how], capture_output=True, text=True)
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout.splitlines()

    def test_a_full_disk_is_read_and_named_when_writing(self):
        read, refused = self.on_a_real_disk('full')
        self.assertEqual('2', read)
        self.assertRegex(refused, r'^Cannot use the journal \S+: the disk is '
                         r'full: \d+ KiB free in \S+/mnt; free some space')

    def test_a_read_only_disk_is_read(self):
        read, refused = self.on_a_real_disk('ro')
        self.assertEqual('2', read)
        self.assertIn('it is read-only', refused)


class TestTaskQueries(JournalTestCase):

    def test_entry_ids_are_the_same_on_every_host(self):
        here = _attempt(self.open(), key='token:t')
        other = self.open(os.path.join(self.dir, 'other.sqlite'))
        there = other.adopt(scope=SCOPE, operation='server.create',
                            idem_key='token:t', marker='m', fingerprint='f1',
                            resource_ids=['x'])
        self.assertEqual(here.uuid, there.uuid)
        elsewhere = _attempt(other, key='token:u')
        self.assertNotEqual(here.uuid, elsewhere.uuid)

    def test_by_task_tag_is_scoped(self):
        journal = self.open()
        mine = _attempt(journal, key='task:g', task_tag='g')
        journal.begin_attempt(
            scope=shared.OTHER_PROJECT,
            operation='server.create', idem_key='task:g', marker='m',
            fingerprint='f1', task_tag='g')
        self.assertEqual([mine.uuid], [e.uuid for e in
                                       journal.by_task_tag(SCOPE.key, 'g')])
        self.assertEqual([], journal.by_task_tag(SCOPE.key, 'h'))

    def test_target_is_kept_and_note_leaves_the_entry_pending(self):
        journal = self.open()
        entry = _attempt(journal, target='k1')
        journal.note(entry.uuid, 'not found on the cloud')
        entry = journal.get(entry.uuid)
        self.assertEqual(('pending', 'k1', 'not found on the cloud'),
                         (entry.state, entry.target, entry.error))
        journal.mark_done(entry.uuid, ['k1'])
        self.assertRaises(jmod.JournalError, journal.note, entry.uuid, 'x')
