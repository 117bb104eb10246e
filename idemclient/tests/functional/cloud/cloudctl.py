#!/usr/bin/env python3
"""Start, stop and describe the local cloud: Keystone, Nova, Cinder, Neutron,
Glance and Octavia.

    cloudctl.py install | up | down | status | env [--user NAME]

``up`` installs the services from PyPI into one pinned virtualenv (once),
writes fresh configuration and databases, starts Neutron's API (gunicorn, no
agents), Keystone and Glance (gunicorn), seeds Keystone, then starts Nova
and Cinder and Octavia's API (``octavia_app.py``: no-op drivers, a status
updater in place of amphorae), each in its own process group, waits until
they answer, seeds Neutron with an external network ``public`` and a router
``router1``, and Glance with the public image ``cirros``.
``down`` stops them. Standard library only: it runs before any virtualenv
exists.

Every API's auth_token keeps its default cache of validated tokens (300 s),
as a deployed cloud does: without it each request is validated at Keystone
again (about 10 ms more per request, which made idemclient's extra
requests look dearer than on a real cloud).
"""
import argparse
import hashlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(os.environ.get('XDG_CACHE_HOME') or
                     os.path.expanduser('~/.cache'), 'idemclient')
VENV = os.environ.get('IDEMCLIENT_CLOUD_VENV',
                      os.path.join(CACHE, 'cloud-venv'))
STATE = os.environ.get('IDEMCLIENT_CLOUD_STATE',
                       os.path.join(CACHE, 'cloud'))
PYTHON = os.environ.get('PYTHON', 'python3.11')
PORTS = {'keystone': 25000, 'nova': 25774, 'cinder': 25776,
         'neutron': 25696, 'glance': 25292, 'octavia': 25876}
AUTH_URL = 'http://127.0.0.1:%d/v3' % PORTS['keystone']
GLANCE_URL = 'http://127.0.0.1:%d' % PORTS['glance']
ADMIN_PASSWORD = 'secretadmin'
# name: (user, password, project), as seed.py makes them
USERS = {
    'admin': ('admin', ADMIN_PASSWORD, 'admin'),
    'demo': ('demo', 'demopass', 'demo'),
    'demo2': ('demo', 'demopass', 'demo2'),
    'alt': ('alt', 'altpass', 'alt'),
}


def log(message):
    print('cloud: %s' % message, flush=True)


def vbin(name):
    return os.path.join(VENV, 'bin', name)


def run(*argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode:
        sys.exit('cloud: %s failed:\n%s%s' % (
            ' '.join(argv[:3]), result.stdout[-3000:], result.stderr[-3000:]))
    return result


def spawn(*argv):
    """Start a command that ``finish`` waits for: run() in the background."""
    return argv, subprocess.Popen(argv, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)


def finish(spawned):
    argv, proc = spawned
    stdout, stderr = proc.communicate()
    if proc.returncode:
        sys.exit('cloud: %s failed:\n%s%s' % (
            ' '.join(argv[:3]), stdout[-3000:], stderr[-3000:]))


def install():
    """Make the virtualenv; skipped when its pins have not changed."""
    pins = [os.path.join(HERE, 'requirements.txt'),
            os.path.join(HERE, 'constraints.txt')]
    stamp = hashlib.sha256(b''.join(open(p, 'rb').read() for p in pins))
    stamp_file = os.path.join(VENV, '.idemclient-stamp')
    if os.path.exists(stamp_file) and \
            open(stamp_file).read() == stamp.hexdigest():
        return
    started = time.monotonic()
    log('installing Keystone, Nova, Cinder, Neutron, Glance and Octavia '
        'into %s' % VENV)
    if not os.path.exists(vbin('python')):
        run(PYTHON, '-m', 'venv', VENV)
    run(vbin('pip'), 'install', '-q', '-c', pins[1], '-r', pins[0])
    with open(stamp_file, 'w') as f:
        f.write(stamp.hexdigest())
    log('installed in %.0fs' % (time.monotonic() - started))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


KEYSTONE_CONF = """[DEFAULT]
log_file = {k}/keystone.log
use_stderr = False
[database]
connection = sqlite:///{k}/keystone.db
[token]
provider = fernet
expiration = 86400
[fernet_tokens]
key_repository = {k}/fernet-keys
[fernet_receipts]
key_repository = {k}/fernet-keys
[credential]
key_repository = {k}/credential-keys
[identity]
# cheap bcrypt: a password login costs ~5 ms instead of ~300 ms
password_hash_rounds = 4
[cache]
enabled = True
backend = dogpile.cache.memory
[oslo_policy]
enforce_new_defaults = True
enforce_scope = True
"""

CINDER_CONF = """[DEFAULT]
use_stderr = False
state_path = {c}/state
host = idemcloud
my_ip = 127.0.0.1
auth_strategy = keystone
api_paste_config = {c}/api-paste.ini
# No resource_query_filters_file: its default path, where Cinder's own
# filter list is not installed, so members may filter on nothing (what a
# Cinder from PyPI does; idemclient then matches the marker itself).
resource_query_filters_file = {c}/no-resource-filters.json
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = {port}
osapi_volume_workers = 1
transport_url = fake:/
enabled_backends = filebackend
default_volume_type = __DEFAULT__
# the posix driver; a backup of a volume marked for it sticks in creating
backup_driver = sticky_backup.StickyPosixBackupDriver
backup_posix_path = {c}/backups
service_down_time = 60
report_interval = 2
# tests run in parallel in one project (the default is 10 volumes)
quota_volumes = -1
quota_snapshots = -1
quota_backups = -1
quota_gigabytes = -1
quota_backup_gigabytes = -1
[filebackend]
volume_driver = file_driver.LocalFileVolumeDriver
volume_backend_name = filebackend
file_volume_dir = {c}/volumes
file_volume_file_mb = 1
[database]
connection = sqlite:///{c}/cinder.db
[keystone_authtoken]
www_authenticate_uri = {auth_url}
auth_url = {auth_url}
auth_type = password
username = cinder
password = cinderpass
project_name = service
user_domain_name = Default
project_domain_name = Default
[oslo_concurrency]
lock_path = {c}/lock
[oslo_messaging_notifications]
driver = noop
[coordination]
backend_url = file://{c}/lock
[oslo_policy]
enforce_new_defaults = True
"""

# Neutron's API alone, no agents: ML2 with one mechanism driver of our own
# that binds every port at once (bindall.py: Nova's boots get bound, ACTIVE
# ports), routers unscheduled, RPC casts into the in-memory fake:/
# transport, nothing told to Nova. neutron_app.py builds the schema.
NEUTRON_CONF = """[DEFAULT]
log_file = {n}/neutron.log
use_stderr = False
state_path = {n}/state
host = idemcloud
auth_strategy = keystone
# api-paste.ini is found next to this file (api_paste_config is deprecated)
core_plugin = ml2
# tag (standard-attr-tag) and the other defaults load on their own
service_plugins = router
allow_overlapping_ips = True
transport_url = fake:/
dhcp_agent_notification = False
notify_nova_on_port_status_changes = False
notify_nova_on_port_data_changes = False
[ml2]
type_drivers = flat,vlan
project_network_types = vlan
mechanism_drivers = bindall
extension_drivers = port_security,tag_ports_during_bulk_creation
[ml2_type_flat]
flat_networks = public
[ml2_type_vlan]
network_vlan_ranges = physnet1:100:1099
[quotas]
# tests run in parallel in one project: the defaults (10 routers, 10
# security groups with the default one) would refuse creates
quota_network = -1
quota_port = -1
quota_router = -1
quota_floatingip = -1
quota_security_group = -1
quota_security_group_rule = -1
[database]
connection = sqlite:///{n}/neutron.db
sqlite_synchronous = False
[keystone_authtoken]
www_authenticate_uri = {auth_url}
auth_url = {auth_url}
auth_type = password
username = neutron
password = neutronpass
project_name = service
user_domain_name = Default
project_domain_name = Default
[oslo_concurrency]
lock_path = {n}/lock
[oslo_messaging_notifications]
driver = noop
[oslo_policy]
enforce_new_defaults = True
enforce_scope = True
"""

# Glance's API alone (no registry; no standalone server either: glance-api
# 33 only runs under a WSGI server), the file store, sqlite that
# glance_app.py has glance-manage build.
GLANCE_CONF = """[DEFAULT]
log_file = {g}/glance-api.log
use_stderr = False
enabled_backends = fs:file
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = {g}/images
# the reserved stores: glance-direct import needs staging
[os_glance_staging_store]
filesystem_store_datadir = {g}/staging
[os_glance_tasks_store]
filesystem_store_datadir = {g}/tasks
[database]
connection = sqlite:///{g}/glance.db
[paste_deploy]
# without it the pipeline has no auth_token and makes every caller admin
flavor = keystone
config_file = {g}/api-paste.ini
[keystone_authtoken]
www_authenticate_uri = {auth_url}
auth_url = {auth_url}
auth_type = password
username = glance
password = glancepass
project_name = service
user_domain_name = Default
project_domain_name = Default
[oslo_concurrency]
lock_path = {g}/lock
[oslo_policy]
enforce_new_defaults = True
enforce_scope = True
policy_file = {g}/policy.yaml
"""
# Glance's own default for image creates, except for the role ``no-images``
# (the seed gives it to the ``noimg`` user): a cloud whose policy refuses
# a project's image creates, where idemclient cannot reserve.
# Octavia's API alone (octavia_app.py): the no-op provider and network
# drivers (no amphorae, no Neutron or Nova calls), RPC into the in-memory
# fake:/ transport, sqlite that octavia_app.py builds from the models.
OCTAVIA_CONF = """[DEFAULT]
log_file = {o}/octavia.log
use_stderr = False
transport_url = fake:/
[api_settings]
bind_host = 127.0.0.1
bind_port = {port}
auth_strategy = keystone
enabled_provider_drivers = noop_driver:noop
default_provider_driver = noop_driver
healthcheck_enabled = True
[controller_worker]
network_driver = network_noop_driver
[database]
connection = sqlite:///{o}/octavia.db
# Octavia's default (10) would reach SQLAlchemy's NullPool, which oslo.db
# uses for file sqlite, and fail the engine: blank means unset
pool_timeout =
sqlite_synchronous = False
[keystone_authtoken]
www_authenticate_uri = {auth_url}
auth_url = {auth_url}
auth_type = password
username = octavia
password = octaviapass
project_name = service
user_domain_name = Default
project_domain_name = Default
[oslo_messaging_notifications]
driver = noop
[oslo_policy]
enforce_new_defaults = True
enforce_scope = True
"""

GLANCE_POLICY = """\
"add_image": "rule:context_is_admin or (role:member and \\
  project_id:%(project_id)s and project_id:%(owner)s and not role:no-images)"
"""


def configure():
    """Fresh configuration for Keystone, Cinder, Neutron, Glance and
    Octavia."""
    shutil.rmtree(STATE, ignore_errors=True)
    k, c = os.path.join(STATE, 'keystone'), os.path.join(STATE, 'cinder')
    n, g = os.path.join(STATE, 'neutron'), os.path.join(STATE, 'glance')
    for d in (k + '/fernet-keys', k + '/credential-keys', c + '/state',
              c + '/lock', c + '/volumes', c + '/backups', STATE + '/nova',
              n + '/state', n + '/lock', g + '/images', g + '/staging',
              g + '/tasks', g + '/lock', STATE + '/octavia'):
        os.makedirs(d)
    write(k + '/keystone.conf', KEYSTONE_CONF.format(k=k))
    write(c + '/cinder.conf', CINDER_CONF.format(
        c=c, port=PORTS['cinder'], auth_url=AUTH_URL, venv=VENV))
    for d, ini in ((c, 'cinder/api-paste.ini'), (n, 'neutron/api-paste.ini'),
                   (g, 'glance/glance-api-paste.ini')):
        paste = open(os.path.join(VENV, 'etc', ini)).read()
        write(d + '/api-paste.ini', re.sub(
            r'(?m)^disable_by_file_path = .*$',
            'disable_by_file_path = %s/healthcheck_disable' % d, paste))
    write(n + '/neutron.conf', NEUTRON_CONF.format(n=n, auth_url=AUTH_URL))
    write(g + '/glance-api.conf', GLANCE_CONF.format(g=g, auth_url=AUTH_URL))
    write(g + '/policy.yaml', GLANCE_POLICY)
    o = os.path.join(STATE, 'octavia')
    write(o + '/octavia.conf', OCTAVIA_CONF.format(
        o=o, port=PORTS['octavia'], auth_url=AUTH_URL))


def make_databases(meanwhile):
    """Keystone's and Cinder's databases and Keystone's keys (Neutron and
    Glance make their own). Each command is mostly imports (~4 s): only
    Keystone's bootstrap waits for another (its db_sync). ``meanwhile``
    starts with the bootstrap: the others are done by then, and one process
    leaves a core idle. Returns what ``meanwhile`` returns."""
    k, c = os.path.join(STATE, 'keystone'), os.path.join(STATE, 'cinder')
    manage = (vbin('keystone-manage'), '--config-file', k + '/keystone.conf')
    others = [spawn(*manage, keys, '--keystone-user', 'root',
                    '--keystone-group', 'root')
              for keys in ('fernet_setup', 'credential_setup')]
    others.append(spawn(vbin('cinder-manage'), '--config-file',
                        c + '/cinder.conf', 'db', 'sync'))
    run(*manage, 'db_sync')
    started = meanwhile()
    run(*manage, 'bootstrap', '--bootstrap-password', ADMIN_PASSWORD,
        '--bootstrap-username', 'admin', '--bootstrap-project-name', 'admin',
        '--bootstrap-role-name', 'admin', '--bootstrap-service-name',
        'keystone', '--bootstrap-region-id', 'RegionOne',
        '--bootstrap-admin-url', AUTH_URL, '--bootstrap-public-url', AUTH_URL,
        '--bootstrap-internal-url', AUTH_URL)
    for spawned in others:
        finish(spawned)
    return started


def service_env():
    env = dict(os.environ, PYTHONWARNINGS='ignore', TMPDIR=STATE + '/nova',
               OS_KEYSTONE_CONFIG_DIR=os.path.join(STATE, 'keystone'),
               OS_NEUTRON_CONFIG_DIR=os.path.join(STATE, 'neutron'),
               OS_NEUTRON_CONFIG_FILES='neutron.conf',
               OS_GLANCE_CONFIG_DIR=os.path.join(STATE, 'glance'),
               PYTHONPATH=HERE)
    env['PATH'] = '%s:%s:%s' % (os.path.join(HERE, 'shim'),
                                os.path.join(VENV, 'bin'), env['PATH'])
    return env


def start(name, argv):
    """Start a service in its own process group; output to <name>.out."""
    out = open(os.path.join(STATE, name + '.out'), 'w')
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=service_env(),
                            start_new_session=True, cwd=STATE)
    write(os.path.join(STATE, name + '.pid'), str(proc.pid))
    return proc


def wait_http(name, url, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return   # it answers
        except OSError:
            time.sleep(0.1)
    tail = open(os.path.join(STATE, name + '.out')).read()[-3000:]
    down()
    sys.exit('cloud: %s did not start:\n%s' % (name, tail))


class Watch(threading.Thread):
    """Polls a service's URL from its start on, so that its start-up time
    is known even while ``up`` waits for something else."""

    def __init__(self, name, url, proc):
        super().__init__(daemon=True)
        self.name_, self.url, self.proc = name, url, proc
        self.started = time.monotonic()
        self.ready_at = None
        self.start()

    def run(self):
        while self.proc.poll() is None:
            try:
                urllib.request.urlopen(self.url, timeout=2)
            except urllib.error.HTTPError:
                pass   # it answers
            except OSError:
                time.sleep(0.1)
                continue
            self.ready_at = time.monotonic()
            return

    def wait(self, timeout):
        self.join(max(0, self.started + timeout - time.monotonic()))
        if self.ready_at is None:
            tail = open(os.path.join(STATE, self.name_ + '.out')).read()
            down()
            sys.exit('cloud: %s did not start:\n%s' % (
                self.name_, tail[-3000:]))
        return self.ready_at - self.started


def start_glance():
    """Glance's API under gunicorn (gthread: Glance 33 runs on native
    threads), watched from its start."""
    return Watch('glance', GLANCE_URL + '/versions', start('glance', (
        vbin('gunicorn'), '--bind', '127.0.0.1:%d' % PORTS['glance'],
        '--worker-class', 'gthread', '--workers', '1', '--threads', '4',
        '--timeout', '120', '--no-control-socket', '--pythonpath', HERE,
        'glance_app:application')))


def wait_cinder_heartbeats(since, proc):
    """Scheduler, volume and backup must each report in: until then the
    API answers NoValidBackend."""
    db = os.path.join(STATE, 'cinder', 'cinder.db')
    query = ("SELECT count(DISTINCT topic) FROM services WHERE deleted=0 "
             "AND disabled=0 AND updated_at >= ?")
    stamp = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(since))
    for _ in range(600):
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                if conn.execute(query, (stamp,)).fetchone()[0] >= 3:
                    return
        except sqlite3.Error:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    down()
    sys.exit('cloud: cinder services did not report in')


def port_free(port):
    with socket.socket() as sock:
        return sock.connect_ex(('127.0.0.1', port)) != 0


def up():
    down(quiet=True)
    busy = [n for n, p in PORTS.items() if not port_free(p)]
    if busy:
        sys.exit('cloud: ports in use: %s' % ', '.join(
            '%s %d' % (n, PORTS[n]) for n in busy))
    t0 = time.monotonic()
    install()
    t1 = time.monotonic()
    configure()
    # Neutron and Glance need nothing from the others to start (auth_token
    # reaches Keystone at the first request): start them while the other
    # databases are made; each builds its own schema. Neutron first (the
    # slower), Glance when a core is free: up takes ~2 s less than with
    # both at once on 2 cores.
    neutron = Watch('neutron', 'http://127.0.0.1:%d/' % PORTS['neutron'],
                    start('neutron', (
                        vbin('gunicorn'), '--bind',
                        '127.0.0.1:%d' % PORTS['neutron'],
                        '--workers', '1', '--threads', '1', '--timeout', '120',
                        '--no-control-socket', '--pythonpath', HERE,
                        'neutron_app:application')))
    try:
        glance = make_databases(start_glance)
    except SystemExit:
        down(quiet=True)
        raise
    t2 = time.monotonic()
    keystone = start('keystone', (
        vbin('gunicorn'), '--bind', '127.0.0.1:%d' % PORTS['keystone'],
        '--workers', '1', '--threads', '1', '--timeout', '120',
        '--no-control-socket', '--pythonpath', HERE,
        '--error-logfile', os.path.join(STATE, 'keystone', 'gunicorn.log'),
        'keystone_app:application'))
    nova = start('nova', (
        vbin('python'), os.path.join(HERE, 'nova_peer.py'),
        '--port', str(PORTS['nova']), '--keystone-url', AUTH_URL,
        '--glance-url', GLANCE_URL,
        '--state-dir', os.path.join(STATE, 'nova'),
        '--ready-file', os.path.join(STATE, 'nova', 'ready.json'),
        '--log-file', os.path.join(STATE, 'nova', 'nova.log')))
    wait_http('keystone', AUTH_URL, keystone, 60)
    seed_env = dict(service_env(), KS_ADMIN_PASSWORD=ADMIN_PASSWORD)
    run(vbin('python'), os.path.join(HERE, 'seed.py'), 'identity', AUTH_URL,
        str(PORTS['nova']), str(PORTS['cinder']), str(PORTS['neutron']),
        str(PORTS['glance']), str(PORTS['octavia']), env=seed_env)
    t3 = time.monotonic()
    since = time.time() - 1
    cinder = start('cinder', (
        vbin('python'), os.path.join(HERE, 'cinder_aio.py'),
        '--config-file', os.path.join(STATE, 'cinder', 'cinder.conf'),
        '--log-file', os.path.join(STATE, 'cinder', 'cinder.log')))
    # Octavia (~3 s of imports) and Neutron's and Glance's seeds run while
    # Cinder comes up.
    octavia = Watch('octavia', 'http://127.0.0.1:%d/' % PORTS['octavia'],
                    start('octavia', (
                        vbin('python'), os.path.join(HERE, 'octavia_app.py'),
                        '--config-file',
                        os.path.join(STATE, 'octavia', 'octavia.conf'),
                        '--port', str(PORTS['octavia']))))
    seeding = []
    for name, watch in (('network', neutron), ('image', glance)):
        took = watch.wait(120)
        seeding.append((name, took, subprocess.Popen(
            (vbin('python'), os.path.join(HERE, 'seed.py'), name, AUTH_URL),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=seed_env)))
    wait_http('cinder', 'http://127.0.0.1:%d/' % PORTS['cinder'], cinder, 90)
    wait_cinder_heartbeats(since, cinder)
    for name, _, proc in seeding:
        output = proc.communicate()[0]
        if proc.returncode:
            down()
            sys.exit('cloud: seeding %s failed:\n%s' % (name, output[-3000:]))
    ready = os.path.join(STATE, 'nova', 'ready.json')
    deadline = time.monotonic() + 120
    while not os.path.exists(ready):
        if nova.poll() is not None or time.monotonic() > deadline:
            tail = open(os.path.join(STATE, 'nova.out')).read()[-3000:]
            down()
            sys.exit('cloud: nova did not start:\n%s' % tail)
        time.sleep(0.1)
    octavia_took = octavia.wait(120)
    t4 = time.monotonic()
    log('up: install %.1fs, configure %.1fs, keystone+seed %.1fs, '
        'nova+cinder+octavia+seeds %.1fs (neutron %.1fs, glance %.1fs, '
        'octavia %.1fs, in parallel); total %.1fs' % (
            t1 - t0, t2 - t1, t3 - t2, t4 - t3, seeding[0][1],
            seeding[1][1], octavia_took, t4 - t0))
    print('# openrc for the admin (cloudctl.py env --user demo|demo2|alt '
          '[--format clouds.yaml] for others):')
    env('admin')


def pids():
    for name in ('neutron', 'glance', 'cinder', 'nova', 'octavia',
                 'keystone'):
        path = os.path.join(STATE, name + '.pid')
        if os.path.exists(path):
            yield name, path, int(open(path).read())


def alive(pid):
    try:   # our own child (up failed): reap it, a zombie is not alive
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def down(quiet=False):
    """SIGTERM every process group at once (each takes ~2 s to stop),
    SIGKILL what is left after 15 s."""
    running = list(pids())
    for name, path, pid in running:
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + 15
    for name, path, pid in running:
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        os.unlink(path)
        if not quiet:
            log('%s stopped' % name)


def status():
    running = 0
    for name, _, pid in pids():
        state = 'running' if alive(pid) else 'dead'
        running += state == 'running'
        print('%-8s pid %-7d %s' % (name, pid, state))
    return 0 if running == len(PORTS) else 1


def env(user, fmt='openrc'):
    """The user's credentials as an openrc or a clouds.yaml entry."""
    name, password, project = USERS[user]
    if fmt == 'clouds.yaml':
        print(CLOUDS_YAML.format(user=user, auth_url=AUTH_URL, name=name,
                                 password=password, project=project))
        return
    for key, value in (
            ('OS_AUTH_URL', AUTH_URL), ('OS_USERNAME', name),
            ('OS_PASSWORD', password), ('OS_PROJECT_NAME', project),
            ('OS_USER_DOMAIN_NAME', 'Default'),
            ('OS_PROJECT_DOMAIN_NAME', 'Default'),
            ('OS_IDENTITY_API_VERSION', '3'),
            ('OS_REGION_NAME', 'RegionOne'), ('OS_INTERFACE', 'public')):
        print('export %s=%s' % (key, value))


CLOUDS_YAML = """clouds:
  idemcloud-{user}:
    auth:
      auth_url: {auth_url}
      username: {name}
      password: {password}
      project_name: {project}
      user_domain_name: Default
      project_domain_name: Default
    identity_api_version: 3
    region_name: RegionOne
    interface: public"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('command',
                        choices=('install', 'up', 'down', 'status', 'env'))
    parser.add_argument('--user', choices=sorted(USERS), default='admin',
                        help='whose credentials "env" prints')
    parser.add_argument('--format', choices=('openrc', 'clouds.yaml'),
                        default='openrc', help='how "env" prints them')
    args = parser.parse_args()
    if args.command == 'install':
        install()
    elif args.command == 'up':
        up()
    elif args.command == 'down':
        down()
    elif args.command == 'status':
        return status()
    else:
        env(args.user, args.format)
    return 0


if __name__ == '__main__':
    sys.exit(main())
