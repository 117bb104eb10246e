"""The local journal of create requests: SQLite, written before they leave.

Every create with a client token (or a task tag) is recorded here, synced to
disk, before its request is sent; so a client that dies at any moment finds,
on its next run, what it may have sent, and reconciles it with the cloud.

States: ``pending`` (recorded, maybe sent), ``done`` (the resource is known),
``failed`` (the cloud refused it; nothing was created; the key is free again).

Care taken, after sqlite-utils: WAL switched on outside any transaction,
``synchronous=FULL``, explicit ``BEGIN IMMEDIATE`` transactions, migrations
keyed by ``PRAGMA user_version``, directory 0700 and file 0600. A file that
cannot be read as a journal is never replaced or discarded: it is reported.
A per-key lock (a byte-range lock on ``<journal>.lock``, released by the
kernel if its holder dies) makes concurrent runs of one request take turns.
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import sqlite3
import time
import urllib.parse
import uuid as uuidlib

from idemclient.core import errors
from idemclient.core import failpoints

SCHEMA_VERSION = 3
STATES = ('pending', 'done', 'failed')
ENV_VAR = 'IDEMCLIENT_JOURNAL'
BUSY_TIMEOUT = 10.0  # seconds SQLite waits for another writer
# The lock file's byte for set-up; request keys use bytes below 2**48.
SETUP_LOCK_OFFSET = 2 ** 48
# Less free space than this where the journal lives, and a write that
# failed, is a full disk (SQLite itself may say only "disk I/O error").
FULL_BYTES = 1024 * 1024

_MIGRATIONS = {
    1: """
    CREATE TABLE request (
        uuid TEXT PRIMARY KEY,
        operation TEXT NOT NULL,
        scope TEXT NOT NULL,
        auth_url TEXT NOT NULL,
        project_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        client_token TEXT,
        task_tag TEXT,
        marker TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
        resource_ids TEXT NOT NULL DEFAULT '[]',
        request_id TEXT,
        response_request_id TEXT,
        error TEXT,
        secret TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE UNIQUE INDEX request_key ON request (scope, operation, idem_key);
    CREATE INDEX request_task_tag ON request (scope, task_tag)
        WHERE task_tag IS NOT NULL;
    CREATE INDEX request_updated ON request (updated_at);
    """,
    # What the request is about when no tag finds it: a keypair's name,
    # the server of a volume swap.
    2: """
    ALTER TABLE request ADD COLUMN target TEXT;
    """,
    # The reservation (``idemclient.reservations``): the entry's own nonce,
    # random and kept across its attempts (a request id changes with each
    # one), so a retry of this host knows its reservation; and the ids of
    # the reservations it holds (space-separated: its own, and its task
    # tag's slot), which ``task prune`` deletes.
    3: """
    ALTER TABLE request ADD COLUMN nonce TEXT;
    ALTER TABLE request ADD COLUMN reservation TEXT;
    """,
}
# Entry ids are derived from the request's key, so the same request has the
# same task id on every host (``openstack task show <id>``).
_ID_NAMESPACE = uuidlib.UUID('4c1d9a5e-5d0c-4a43-9f0e-6f2b8e1d7a31')


def entry_id(scope_key, operation, idem_key):
    return str(uuidlib.uuid5(_ID_NAMESPACE, '\0'.join(
        (scope_key, operation, idem_key))))


class JournalError(errors.IdemError):
    """The journal cannot be used; no create may be sent.

    Its text is a sentence without its full stop: the command adds what
    follows (". Nothing was sent.").
    """


def default_path(environ=None):
    """``$IDEMCLIENT_JOURNAL``, else ``$XDG_STATE_HOME/idemclient/...``."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_VAR):
        return os.path.expanduser(environ[ENV_VAR])
    state_home = environ.get('XDG_STATE_HOME') or os.path.join(
        os.path.expanduser('~'), '.local', 'state')
    return os.path.join(state_home, 'idemclient', 'journal.sqlite')


class Empty:
    """No journal file yet: reading commands find nothing in it, and no
    file or directory is made for them."""

    def __init__(self, path):
        self.path = path

    def find(self, scope, operation, idem_key):
        return None

    def get(self, uuid):
        return None

    def by_task_tag(self, scope, task_tag):
        return []

    def entries(self, state=None, scope=None):
        return []

    def finished(self, older_than):
        return []

    def delete_entries(self, uuids):
        return 0

    def delete_finished(self, older_than):
        return 0

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


@dataclasses.dataclass
class Entry:
    """One request, as the journal knows it."""

    uuid: str
    operation: str
    scope: str
    auth_url: str
    project_id: str
    user_id: str
    idem_key: str
    client_token: str | None
    task_tag: str | None
    marker: str
    fingerprint: str
    state: str
    resource_ids: list
    request_id: str | None
    response_request_id: str | None
    error: str | None
    secret: str | None
    attempts: int
    created_at: float
    updated_at: float
    target: str | None = None
    nonce: str | None = None
    reservation: str | None = None

    @classmethod
    def from_row(cls, row):
        values = dict(row)
        values['resource_ids'] = json.loads(values['resource_ids'])
        return cls(**values)


def _free_bytes(path):
    try:
        stat = os.statvfs(os.path.dirname(path) or '.')
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


def _describe(exc, path):
    text = str(exc)
    free = _free_bytes(path)
    if ('full' in text or 'I/O error' in text) and free is not None and \
            free < FULL_BYTES:
        return ('the disk is full: %d KiB free in %s; free some space and '
                'run the command again (%s)'
                % (free // 1024, os.path.dirname(path), text))
    if 'not a database' in text or 'malformed' in text:
        return ('%s; the file was left as it is: move it aside to start '
                'a new journal' % text)
    if 'readonly' in text or 'read-only' in text:
        return 'it is read-only (%s)' % text
    if 'locked' in text or 'busy' in text:
        return 'it stayed locked by another process for %ds (%s)' % (
            BUSY_TIMEOUT, text)
    return text


class Journal:
    """An open journal file. Use ``Journal.open(path)``."""

    def __init__(self, path, conn):
        self.path = path
        self._conn = conn
        self._lock_fd = None

    # -- opening --------------------------------------------------------
    @classmethod
    def open(cls, path):
        path = os.path.abspath(os.path.expanduser(path))
        try:
            directory = os.path.dirname(path)
            if not os.path.isdir(directory):
                os.makedirs(directory, mode=0o700, exist_ok=True)
            if not os.path.exists(path):
                os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        except OSError as exc:
            raise JournalError('Cannot create the journal %s: %s'
                               % (path, exc.strerror or exc))
        # SQLite would say only "unable to open database file": it needs
        # to write the file and, for WAL, files beside it.
        for needed in (path, directory):
            if not os.access(needed, os.W_OK):
                raise JournalError(
                    'Cannot use the journal %s: it is read-only (%s cannot '
                    'be written)' % (path, needed))
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT,
                                   isolation_level=None)
        except sqlite3.Error as exc:
            raise JournalError('Cannot open the journal %s: %s'
                               % (path, _describe(exc, path)))
        journal = cls(path, conn)
        try:
            conn.row_factory = sqlite3.Row
            # One process at a time: switching a new file to WAL is not
            # covered by SQLite's busy timeout ("database is locked").
            with journal._setup_lock():
                # WAL must be switched on outside any transaction.
                mode = conn.execute('PRAGMA journal_mode=WAL').fetchone()[0]
                if mode.lower() != 'wal':
                    raise sqlite3.OperationalError(
                        'cannot switch to WAL (got %s)' % mode)
                conn.execute('PRAGMA synchronous=FULL')
                journal._migrate()
        except sqlite3.Error as exc:
            journal.close()
            raise JournalError('Cannot use the journal %s: %s'
                               % (path, _describe(exc, path)))
        except JournalError:
            journal.close()
            raise
        return journal

    @contextlib.contextmanager
    def _setup_lock(self):
        fd = self._lock_file()
        fcntl.lockf(fd, fcntl.LOCK_EX, 1, SETUP_LOCK_OFFSET)
        try:
            yield
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, SETUP_LOCK_OFFSET)

    def _lock_file(self):
        """``<journal>.lock``: one byte per request key, and one for set-up
        (released by the kernel if the holder dies)."""
        if self._lock_fd is None:
            try:
                self._lock_fd = os.open(self.path + '.lock',
                                        os.O_CREAT | os.O_RDWR, 0o600)
            except OSError as exc:
                raise JournalError('Cannot open the journal lock %s.lock: %s'
                                   % (self.path, exc.strerror or exc))
        return self._lock_fd

    @classmethod
    def open_for_reading(cls, path):
        """The journal for a command that only reads, or ``Empty`` if there
        is none: it creates nothing and writes nothing, so it works on a
        full or read-only disk too.

        SQLite needs to write the ``-shm`` file beside a WAL database even
        to read it; where it cannot, the file is read as immutable, which
        is exact as long as no write-ahead log holds entries not yet in
        the file (every clean close folds it in).
        """
        path = os.path.abspath(os.path.expanduser(path))
        if not os.path.exists(path):
            return Empty(path)
        try:
            conn = cls._connect_read_only(path)
        except sqlite3.Error as exc:
            raise JournalError('Cannot read the journal %s: %s'
                               % (path, _describe(exc, path)))
        conn.row_factory = sqlite3.Row
        return cls(path, conn)

    @staticmethod
    def _connect_read_only(path):
        """Read as a writer would (its close tidies the WAL files away),
        else read-only, else as immutable when no WAL holds entries."""
        quoted = urllib.parse.quote(path)
        wal = path + '-wal'
        error = None
        for query in ('mode=rw', 'mode=ro', 'immutable=1'):
            if query == 'immutable=1' and os.path.exists(wal) and \
                    os.path.getsize(wal) > 0:
                break
            try:
                conn = sqlite3.connect('file:%s?%s' % (quoted, query),
                                       uri=True, timeout=BUSY_TIMEOUT,
                                       isolation_level=None)
                conn.execute('PRAGMA query_only=ON')
                conn.execute('SELECT count(*) FROM sqlite_master').fetchone()
                return conn
            except sqlite3.OperationalError as exc:
                error = exc
        raise error

    def _migrate(self):
        for target in range(1, SCHEMA_VERSION + 1):
            with self._transaction() as conn:
                # Read inside the write lock: two first runs may race here.
                version = conn.execute('PRAGMA user_version').fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise sqlite3.DatabaseError(
                        'it was written by a newer idemclient (schema %d, '
                        'this one knows %d); the file was left as it is'
                        % (version, SCHEMA_VERSION))
                if version >= target:
                    continue
                for statement in _MIGRATIONS[target].split(';'):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute('PRAGMA user_version=%d' % target)

    def close(self):
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- transactions ---------------------------------------------------
    @contextlib.contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE ... COMMIT; with synchronous=FULL the commit is
        on disk when this block is left."""
        self._conn.execute('BEGIN IMMEDIATE')
        try:
            yield self._conn
        except BaseException:
            # SQLite may have rolled back already (SQLITE_FULL does):
            # a second ROLLBACK would hide the real error.
            if self._conn.in_transaction:
                self._conn.execute('ROLLBACK')
            raise
        try:
            self._conn.execute('COMMIT')
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute('ROLLBACK')
            raise

    def _write(self, sql, params, before_commit=None):
        try:
            with self._transaction() as conn:
                cursor = conn.execute(sql, params)
                if cursor.rowcount != 1:
                    raise JournalError('Journal %s: expected to change one '
                                       'entry, changed %d'
                                       % (self.path, cursor.rowcount))
                if before_commit:  # written, not yet committed
                    failpoints.hit(before_commit)
        except sqlite3.Error as exc:
            raise JournalError('Cannot write to the journal %s: %s'
                               % (self.path, _describe(exc, self.path)))

    def _read(self, sql, params=()):
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise JournalError('Cannot read the journal %s: %s'
                               % (self.path, _describe(exc, self.path)))

    # -- queries --------------------------------------------------------
    def find(self, scope, operation, idem_key):
        rows = self._read(
            'SELECT * FROM request WHERE scope=? AND operation=? '
            'AND idem_key=?', (scope, operation, idem_key))
        return Entry.from_row(rows[0]) if rows else None

    def get(self, uuid):
        rows = self._read('SELECT * FROM request WHERE uuid=?', (uuid,))
        return Entry.from_row(rows[0]) if rows else None

    def by_task_tag(self, scope, task_tag):
        return [Entry.from_row(r) for r in self._read(
            'SELECT * FROM request WHERE scope=? AND task_tag=? '
            'ORDER BY created_at DESC', (scope, task_tag))]

    def entries(self, state=None, scope=None):
        """Entries, newest first."""
        sql, params = 'SELECT * FROM request', []
        clauses = []
        if state:
            clauses.append('state=?')
            params.append(state)
        if scope:
            clauses.append('scope=?')
            params.append(scope)
        if clauses:
            sql += ' WHERE ' + ' AND '.join(clauses)
        sql += ' ORDER BY created_at DESC, rowid DESC'
        return [Entry.from_row(r) for r in self._read(sql, params)]

    # -- state changes --------------------------------------------------
    def begin_attempt(self, *, scope, operation, idem_key, marker,
                      fingerprint, client_token=None, task_tag=None,
                      secret=None, target=None):
        """Record that a create is about to be sent; durable on return.

        A new key gets a new entry; a pending or failed entry starts a new
        attempt (a failed one may take new parameters: nothing was made).
        Returns the entry, with the request id the attempt must send.
        """
        now = time.time()
        request_id = 'req-%s' % uuidlib.uuid4()
        existing = self.find(scope.key, operation, idem_key)
        if existing is None:
            self._write(
                'INSERT INTO request (uuid, operation, scope, auth_url, '
                'project_id, user_id, idem_key, client_token, task_tag, '
                'marker, fingerprint, state, request_id, secret, attempts, '
                'created_at, updated_at, target, nonce) VALUES '
                '(?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?)',
                (entry_id(scope.key, operation, idem_key), operation,
                 scope.key, scope.auth_url, scope.project_id, scope.user_id,
                 idem_key, client_token, task_tag, marker, fingerprint,
                 'pending', request_id, secret, now, now, target,
                 uuidlib.uuid4().hex),
                before_commit='before-journal-commit')
        elif existing.state == 'done':
            raise JournalError('Journal %s: request %s is already done'
                               % (self.path, existing.uuid))
        else:
            self._write(
                "UPDATE request SET state='pending', fingerprint=?, "
                'request_id=?, error=NULL, secret=COALESCE(?, secret), '
                'task_tag=COALESCE(?, task_tag), target=COALESCE(?, target), '
                'nonce=COALESCE(nonce, ?), attempts=attempts+1, '
                'updated_at=? WHERE uuid=?',
                (fingerprint, request_id, secret, task_tag, target,
                 uuidlib.uuid4().hex, now, existing.uuid),
                before_commit='before-journal-commit')
        return self.find(scope.key, operation, idem_key)

    def mark_done(self, uuid, resource_ids, response_request_id=None):
        self._write(
            "UPDATE request SET state='done', resource_ids=?, "
            'response_request_id=COALESCE(?, response_request_id), '
            'error=NULL, updated_at=? WHERE uuid=?',
            (json.dumps(list(resource_ids)), response_request_id,
             time.time(), uuid))

    def hold_reservation(self, uuid, reservation_id):
        """Record the reservations this entry's attempt holds (ids,
        space-separated; kept when the entry is done, so ``task prune``
        can delete them)."""
        self._write('UPDATE request SET reservation=? WHERE uuid=?',
                    (reservation_id, uuid))

    def mark_sent(self, uuid, response_request_id):
        """The create was answered; which resource is the request's is
        decided later (``mark_done``). It stays pending until then, so a
        crash in between still ends in a lookup."""
        self._write(
            'UPDATE request SET response_request_id=?, updated_at=? '
            "WHERE uuid=? AND state='pending'",
            (response_request_id, time.time(), uuid))

    def adopt(self, *, scope, operation, idem_key, marker, fingerprint,
              resource_ids, client_token=None, task_tag=None, target=None):
        """Record a resource found on the cloud for a key this journal did
        not know (first run on this host)."""
        now = time.time()
        self._write(
            'INSERT INTO request (uuid, operation, scope, auth_url, '
            'project_id, user_id, idem_key, client_token, task_tag, marker, '
            'fingerprint, state, resource_ids, attempts, created_at, '
            'updated_at, target) VALUES '
            "(?,?,?,?,?,?,?,?,?,?,?,'done',?,0,?,?,?)",
            (entry_id(scope.key, operation, idem_key), operation, scope.key,
             scope.auth_url, scope.project_id, scope.user_id, idem_key,
             client_token, task_tag, marker, fingerprint,
             json.dumps(list(resource_ids)), now, now, target))
        return self.find(scope.key, operation, idem_key)

    def note(self, uuid, text):
        """Say what a check of a pending entry found, leaving it pending:
        its next run still looks it up before sending anything. The time
        of the attempt (``updated_at``) is kept."""
        self._write("UPDATE request SET error=? WHERE uuid=? "
                    "AND state='pending'", (text, uuid))

    def mark_failed(self, uuid, error):
        self._write(
            "UPDATE request SET state='failed', error=?, updated_at=? "
            'WHERE uuid=?', (error, time.time(), uuid))

    def finished(self, older_than):
        """Done and failed entries last changed before ``older_than``."""
        return [Entry.from_row(r) for r in self._read(
            "SELECT * FROM request WHERE state IN ('done', 'failed') "
            'AND updated_at < ?', (older_than,))]

    def delete_entries(self, uuids):
        """Drop these entries if they are still finished; how many went."""
        try:
            with self._transaction() as conn:
                return sum(conn.execute(
                    "DELETE FROM request WHERE uuid=? AND state IN "
                    "('done', 'failed')", (uuid,)).rowcount
                    for uuid in uuids)
        except sqlite3.Error as exc:
            raise JournalError('Cannot write to the journal %s: %s'
                               % (self.path, _describe(exc, self.path)))

    def delete_finished(self, older_than):
        """Drop done and failed entries last changed before ``older_than``
        (epoch seconds); pending ones are never dropped."""
        try:
            with self._transaction() as conn:
                return conn.execute(
                    "DELETE FROM request WHERE state IN ('done', 'failed') "
                    'AND updated_at < ?', (older_than,)).rowcount
        except sqlite3.Error as exc:
            raise JournalError('Cannot write to the journal %s: %s'
                               % (self.path, _describe(exc, self.path)))

    # -- per-request lock -----------------------------------------------
    @contextlib.contextmanager
    def lock(self, *key_parts, timeout=600.0, on_wait=None, poll=0.05):
        """Hold the lock of one request key (across processes).

        ``on_wait`` is called once when the lock is not free at once, so
        the command can say why it is waiting.
        """
        self._lock_file()
        digest = hashlib.sha256('\0'.join(key_parts).encode()).hexdigest()
        offset = int(digest[:12], 16)
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.lockf(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB,
                            1, offset)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise JournalError(
                        'Another run with the same key held its lock for '
                        'more than %ds' % timeout)
                if not waited and on_wait:
                    on_wait()
                waited = True
                time.sleep(poll)
        try:
            yield
        finally:
            fcntl.lockf(self._lock_fd, fcntl.LOCK_UN, 1, offset)
