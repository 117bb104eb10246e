"""Functional tests: the real ``openstack`` command against the local real
cloud (``idemclient/tests/functional/cloud``), checked through the API.

The cloud is started once per run, outside stestr (see tools/run-tests.sh).
A missing cloud fails every test loudly: a skip would hide it.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import testtools

AUTH_URL = os.environ.get('IDEMCLIENT_CLOUD_AUTH_URL',
                          'http://127.0.0.1:25000/v3')
# name: (user, password, project) as the cloud harness seeds them
USERS = {
    'admin': ('admin', 'secretadmin', 'admin'),
    'demo': ('demo', 'demopass', 'demo'),
    'demo2': ('demo', 'demopass', 'demo2'),
    'alt': ('alt', 'altpass', 'alt'),
    'noimg': ('noimg', 'noimgpass', 'noimg'),  # no image creates (policy)
}
OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')
# Servers boot as users boot them: on a network (the seed's ``private``,
# shared, on the real Neutron). test_shell.py keeps one ``--nic none``.
CREATE = ('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros',
          '--network', 'private')
_sessions = {}


def session_for(user):
    if user not in _sessions:
        name, password, project = USERS[user]
        _sessions[user] = ks_session.Session(auth=v3.Password(
            auth_url=AUTH_URL, username=name, password=password,
            project_name=project, user_domain_name='Default',
            project_domain_name='Default'))
    return _sessions[user]


def compute_endpoint(user='admin'):
    return session_for(user).get_endpoint(service_type='compute',
                                          interface='public')


def image_endpoint(user='admin'):
    return session_for(user).get_endpoint(service_type='image',
                                          interface='public')


def osc_env(user, journal, extra=None):
    name, password, project = USERS[user]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'IDEMCLIENT_'))}
    env.update({
        'OS_AUTH_URL': AUTH_URL, 'OS_USERNAME': name,
        'OS_PASSWORD': password, 'OS_PROJECT_NAME': project,
        'OS_USER_DOMAIN_NAME': 'Default', 'OS_PROJECT_DOMAIN_NAME': 'Default',
        'OS_IDENTITY_API_VERSION': '3', 'OS_REGION_NAME': 'RegionOne',
        'OS_INTERFACE': 'public', 'IDEMCLIENT_JOURNAL': journal,
        'PYTHONWARNINGS': 'ignore',
    })
    env.update(extra or {})
    return env


def outcome_writers(journals=b''):
    """The pids of the processes still writing a command's outcome
    (``idemclient.clients.later``), whose journal is under ``journals``
    (a path prefix, bytes; all of them by default)."""
    needle = b'\0IDEMCLIENT_JOURNAL=' + journals
    found = []
    for name in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % name, 'rb') as f:
                if b'idemclient.clients.later' not in f.read():
                    continue
            with open('/proc/%s/environ' % name, 'rb') as f:
                if needle in b'\0' + f.read():
                    found.append(int(name))
        except (OSError, ValueError):
            continue  # not a process, or it ended meanwhile
    return found


class FunctionalTestCase(testtools.TestCase):

    user = 'admin'  # whose commands and API calls a test makes by default

    def setUp(self):
        super().setUp()
        try:
            session_for('admin').get_token()
        except Exception as exc:
            self.fail('the local cloud does not answer at %s (%s): start '
                      'it with tools/run-tests.sh or cloudctl.py up'
                      % (AUTH_URL, exc))
        self.tmp = tempfile.mkdtemp(prefix='idem-ft-')
        self.journal = os.path.join(self.tmp, 'journal.sqlite')
        self.uid = uuid.uuid4().hex[:8]

    # -- the real command -------------------------------------------------
    def osc(self, *args, user=None, journal=None, env=None, timeout=300,
            wrap=()):
        """Run the command; return once it and the outcome it left to
        another process (``clients.later``) are done, as a user who waits
        a moment would find the cloud."""
        try:
            return subprocess.run(
                wrap + (OPENSTACK,) + args, capture_output=True, text=True,
                timeout=timeout, stdin=subprocess.DEVNULL,
                env=osc_env(user or self.user, journal or self.journal, env))
        finally:
            self.wait_for_writers()

    def wait_for_writers(self, timeout=70):
        """Wait until no outcome writer of this test's commands runs (a
        journal under this test's directory)."""
        deadline = time.monotonic() + timeout
        while outcome_writers(os.fsencode(self.tmp) + b'/') and \
                time.monotonic() < deadline:
            time.sleep(0.02)

    def osc_read_only(self, directory, *args, **kwargs):
        """Run the command with ``directory`` on a read-only filesystem: a
        read-only bind mount in a private mount namespace (root bypasses
        file modes, not a read-only mount)."""
        remount = ('mount --bind "$1" "$1" && '
                   'mount -o remount,bind,ro "$1" && shift && exec "$@"')
        return self.osc(*args, wrap=('unshare', '-m', 'sh', '-c', remount,
                                     'sh', directory), **kwargs)

    def osc_full_disk(self, journal, *args, **kwargs):
        """Run the command with ``journal`` (a copy of it) on a real file
        system that is full: a 512 KiB tmpfs in a private mount namespace,
        filled up before the command starts. The journal's path in the
        command is the tmpfs's ``journal.sqlite``; returns (run, path)."""
        mount = os.path.join(self.tmp, 'full-disk')
        os.makedirs(mount, exist_ok=True)
        inside = os.path.join(mount, 'journal.sqlite')
        fill = ('mount -t tmpfs -o size=512k tmpfs "$1" && '
                '{ [ ! -e "$2" ] || cp "$2" "$1/journal.sqlite"; } && '
                '{ dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; '
                'shift 2; exec "$@"; }')
        return self.osc(*args, journal=inside, wrap=(
            'unshare', '-m', 'sh', '-c', fill, 'sh', mount, journal),
            **kwargs), inside

    def start_osc(self, *args, user=None, journal=None, env=None,
                  stderr=subprocess.PIPE):
        proc = subprocess.Popen(
            (OPENSTACK,) + args, stdout=subprocess.PIPE,
            stderr=stderr, text=True, stdin=subprocess.DEVNULL,
            env=osc_env(user or self.user, journal or self.journal, env),
            start_new_session=True)
        self.addCleanup(self._reap, proc)
        return proc

    def queued(self, count, proxy, method, path, *args, env=None):
        """Start ``count`` runs of ``openstack *args`` on this host (one
        journal) and show that they ran at once: the first run's create
        (``method`` ``path``) is held at ``proxy`` until every other run
        says it is waiting for it (the journal's lock). What each printed;
        every run must succeed."""
        proxy.rule(method, path, 'gate')
        errors = [os.path.join(self.tmp, 'queued-%s-%d' % (self.uid, n))
                  for n in range(count)]
        procs = []
        for error in errors:
            with open(error, 'w') as stderr:
                procs.append(self.start_osc(*args, env=env, stderr=stderr))

        def waiting():
            return sum('Waiting for another run' in open(e).read()
                       for e in errors) == count - 1 and proxy.gated == 1
        self.wait_for(waiting, timeout=120, what='%d runs to wait for the '
                      'first' % (count - 1))
        proxy.open_gate()
        return self.outputs(procs)

    def outputs(self, procs, timeout=600):
        """What each process printed; every one must succeed."""
        deadline = time.monotonic() + timeout
        printed = []
        for proc in procs:
            out, err = proc.communicate(
                timeout=max(1, deadline - time.monotonic()))
            self.assertEqual(0, proc.returncode, err)
            printed.append(out.strip())
        self.wait_for_writers()
        return printed

    @staticmethod
    def _reap(proc):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()

    def assertOK(self, result):
        self.assertEqual(0, result.returncode,
                         'stdout: %s\nstderr: %s' % (result.stdout,
                                                     result.stderr))
        return result

    def host_env(self, name, extra=None):
        """The environment of another machine: its own home, state
        directory and journal (so its own journal lock too)."""
        home = os.path.join(self.tmp, 'host-' + name)
        os.makedirs(home, exist_ok=True)
        env = {'HOME': home, 'XDG_STATE_HOME': os.path.join(home, 'state'),
               'IDEMCLIENT_JOURNAL': os.path.join(home, 'journal.sqlite')}
        env.update(extra or {})
        return env

    def barrier(self, count):
        """Environment making ``count`` runs wait for each other at a
        failpoint (see idemclient.failpoints)."""
        directory = tempfile.mkdtemp(dir=self.tmp, prefix='barrier-')
        return {'IDEMCLIENT_BARRIER': '%s:%d' % (directory, count)}

    def create_server(self, name, *extra, user='admin', journal=None,
                      env=None):
        """``openstack server create ... -f json``; the JSON or the run."""
        result = self.osc(*(CREATE + extra + (name, '-f', 'json')),
                          user=user, journal=journal, env=env)
        if result.returncode == 0:
            return json.loads(result.stdout)
        return result

    # -- the cloud, through its API ----------------------------------------
    def compute(self, method, path, user='admin', **kwargs):
        response = session_for(user).request(
            compute_endpoint(user) + path, method, raise_exc=False,
            headers={'OpenStack-API-Version': 'compute 2.52'}, **kwargs)
        return response

    def unschedulable_flavor(self):
        """A flavor no host can take: its servers end in ERROR with
        Nova's "No valid host" fault."""
        flavor = 'huge-' + self.uid
        created = self.compute('POST', '/flavors', json={'flavor': {
            'name': flavor, 'vcpus': 100000, 'ram': 64, 'disk': 1}})
        self.assertEqual(200, created.status_code, created.text)
        self.addCleanup(self.compute, 'DELETE',
                        '/flavors/%s' % created.json()['flavor']['id'])
        return flavor

    def servers_named(self, name, user='admin', cleanup=True):
        """Every server of the user's project whose name starts with
        ``name`` (multi-create appends -1, -2...); deleted at the end
        unless ``cleanup`` is false."""
        body = self.compute('GET', '/servers/detail', user,
                            params={'name': '^%s' % name}).json()
        found = [s for s in body['servers']
                 if s['name'] == name or s['name'].startswith(name + '-')]
        for server in found if cleanup else ():
            self.addCleanup(self.compute, 'DELETE',
                            '/servers/%s' % server['id'], user)
        return found

    def wait_for(self, predicate, timeout=60, interval=0.1, what='it'):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        self.fail('timed out waiting for %s' % what)

    def journal_entries(self, journal=None):
        import sqlite3
        path = journal or self.journal
        if not os.path.exists(path):
            return []
        conn = sqlite3.connect(path)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute('SELECT * FROM request')]
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()
