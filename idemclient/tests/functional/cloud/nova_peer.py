"""Real Nova (API, conductor, scheduler, fake-driver compute) in one process.

Nova's own functional-test harness brings the services up over the in-process
``fake:`` transport with real Placement; this module serves the real API
paste pipeline (real keystonemiddleware ``auth_token`` against the local
Keystone, real policy) on a TCP socket. Images are the local cloud's real
Glance, called with the caller's token, in place of the harness's in-memory
``GlanceFixture``. Condensed from /work/shared/reference/nova/peer_ks.py and
/work/shared/reference/glance/lib/nova_peer_glance.py; see
real-openstack.md for the traps.

A snapshot (``server image create``) uploads 64 KiB of zeros as a raw
image, so it becomes ``active``. The server's metadata item SNAPSHOT_KEY is
a test hook, like ``sticky_backup.py``'s: ``stick`` uploads nothing (the
image stays ``queued``), ``fail`` makes the driver's snapshot raise. Nova
then deletes the image (Glance: ``deleted``, 404; not ``killed``) and
records an instance fault, but the ``createImage`` action's only event,
``compute_snapshot_instance``, says ``Success``: Nova 34's
``snapshot_instance`` hands the work to a thread and returns, and the
event ends with it. The metadata item BUILD_KEY makes the server's build
take that many seconds (at most 120): a server seen in ``BUILD`` while a
client polls it; SNAPSHOT_SECONDS_KEY does the same for a snapshot.

Usage: python nova_peer.py --port P --keystone-url URL --glance-url URL
                           --state-dir D --ready-file F --log-file L
"""
import os
import sys

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
os.environ['OS_TEST_TIMEOUT'] = '0'
os.environ.pop('OS_STDOUT_CAPTURE', None)
os.environ.pop('OS_STDERR_CAPTURE', None)

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import fixtures  # noqa: E402
import nova.tests  # noqa: E402,F401  (native threads, see above)
# nova.tests.functional must patch before the rest of nova is imported.
from nova.tests.functional import integrated_helpers  # noqa: E402
import nova.api.auth  # noqa: E402,H306
import nova.conf  # noqa: E402
from nova import exception  # noqa: E402
import nova.image.glance  # noqa: E402
import nova.network.neutron  # noqa: E402
from nova.virt import fake  # noqa: E402

# The API fixture stubs the context factory with a header-only fake.
_REAL_CREATE_CONTEXT = nova.api.auth.NovaKeystoneContext.__dict__[
    '_create_context']
# GlanceFixture stubs the image service with its in-memory one.
_REAL_IMAGE_SERVICE = nova.image.glance.get_default_image_service
# NeutronFixture stubs Neutron's client with its in-memory one.
_REAL_NEUTRON_CLIENT = nova.network.neutron.get_client
_FAKE_SNAPSHOT = fake.FakeDriver.snapshot
_FAKE_SPAWN = fake.FakeDriver.spawn
SNAPSHOT_KEY = 'idemclient-test:snapshot'
BUILD_KEY = 'idemclient-test:build-seconds'
SNAPSHOT_SECONDS_KEY = 'idemclient-test:snapshot-seconds'
SNAPSHOT_BYTES = 64 * 1024


class Harness(integrated_helpers._IntegratedTestBase):
    """Nova's integrated functional test base, used as a service."""

    ADMIN_API = True
    microversion = 'latest'
    STUB_KEYSTONE = False   # the real auth_token middleware
    CAST_AS_CALL = False    # boot answers 202 before the server is ACTIVE
    opts = None

    def _setup_cells(self):
        """Real cell0/cell1 sqlite files: Nova's CellDatabases fixture
        deadlocks under concurrent creates in native-thread mode."""
        from nova import context
        from nova.db.main import api as main_db_api
        from nova.db import migration
        from nova import objects
        from oslo_db.sqlalchemy import enginefacade
        from oslo_db.sqlalchemy import test_fixtures as db_fixtures
        from oslo_utils.fixture import uuidsentinel as uuids

        state = self.opts.state_dir
        os.makedirs(state, exist_ok=True)
        paths = {}
        for name in ('cell0', 'cell1'):
            paths[name] = os.path.join(state, '%s.sqlite' % name)
            for suffix in ('', '-wal', '-shm'):
                if os.path.exists(paths[name] + suffix):
                    os.unlink(paths[name] + suffix)
        url = 'sqlite:///%s'
        self.flags(connection=url % paths['cell1'], group='database')
        with sqlite3.connect(paths['cell1']) as conn:
            conn.execute('PRAGMA journal_mode=WAL')
        engine = enginefacade.transaction_context()
        self.useFixture(db_fixtures.ReplaceEngineFacadeFixture(
            main_db_api.context_manager, engine))
        main_db_api.configure(nova.conf.CONF)
        engine.configure(connection=url % paths['cell1'])
        migration.db_sync(database='main')
        src, dst = (sqlite3.connect(paths['cell1']),
                    sqlite3.connect(paths['cell0']))
        src.backup(dst)
        dst.execute('PRAGMA journal_mode=WAL')
        dst.close()
        src.close()
        ctxt = context.get_context()
        for name, uuid in (('cell0', objects.CellMapping.CELL0_UUID),
                           ('cell1', uuids.cell1)):
            mapping = objects.CellMapping(
                context=ctxt, uuid=uuid, name=name,
                transport_url='fake://nowhere/',
                database_connection=url % paths[name])
            mapping.create()
            self.cell_mappings[name] = mapping

    def _setup_compute_service(self):
        self.flags(compute_driver='fake.FakeDriver')
        return self._start_compute('compute')

    def _setup_services(self):
        # A wheel install ships api-paste.ini under <prefix>/etc/nova.
        paste = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
        self.flags(api_paste_config=paste, group='wsgi')
        self._configure_authtoken()
        # GlanceFixture is set up by now (in setUp, before this): put the
        # real image service back, aimed at the real Glance. The fixture
        # also sets api_servers to a localhost:9292 nothing serves.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.image.glance.get_default_image_service',
            _REAL_IMAGE_SERVICE))
        self.flags(api_servers=[self.opts.glance_url], group='glance')
        self._use_real_neutron()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.fake.FakeDriver.snapshot', _snapshot))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.fake.FakeDriver.spawn', _spawn))
        super()._setup_services()   # the paste app is loaded here

    def _use_real_neutron(self):
        """Ports from the local cloud's real Neutron (found in the
        catalog), with the nova user (admin and service) for what Nova
        asks as a service: binding a port to this host, and the service
        token with a user's requests. The fake driver waits for no
        vif-plugged event."""
        from keystoneauth1 import loading as ks_loading
        self.useFixture(fixtures.MonkeyPatch(
            'nova.network.neutron.get_client', _REAL_NEUTRON_CLIENT))
        nova.conf.CONF.register_opts(
            ks_loading.get_auth_plugin_conf_options('password'),
            group='neutron')
        self.flags(group='neutron', auth_type='password',
                   auth_url=self.opts.keystone_url, username='nova',
                   password='novapass', project_name='service',
                   user_domain_name='Default', project_domain_name='Default',
                   region_name='RegionOne', valid_interfaces=['public'])
        self.flags(vif_plugging_timeout=0, vif_plugging_is_fatal=False)
        # Neutron lets a member delete a compute port only with a service
        # token beside the user's (its delete_port policy): Nova's own.
        nova.conf.CONF.register_opts(
            ks_loading.get_auth_plugin_conf_options('password'),
            group='service_user')
        self.flags(group='service_user', send_service_user_token=True,
                   auth_type='password', auth_url=self.opts.keystone_url,
                   username='nova', password='novapass',
                   project_name='service', user_domain_name='Default',
                   project_domain_name='Default')

    def _configure_authtoken(self):
        from keystoneauth1 import loading as ks_loading
        from keystonemiddleware import auth_token  # noqa: F401 (options)
        nova.conf.CONF.register_opts(
            ks_loading.get_auth_plugin_conf_options('password'),
            group='keystone_authtoken')
        url = self.opts.keystone_url
        self.flags(group='keystone_authtoken', www_authenticate_uri=url,
                   auth_url=url, auth_type='password', username='nova',
                   password='novapass', project_name='service',
                   user_domain_name='Default', project_domain_name='Default',
                   region_name='RegionOne', interface='public',
                   service_type='compute')

    def test_peer(self):  # testtools needs a test method to instantiate
        pass


def _snapshot(self, context, instance, image_id, update_task_state):
    """The fake driver's snapshot, then what a real driver does next:
    upload the disk, so that the image turns ``active``; or, on the
    server's request (SNAPSHOT_KEY), nothing (``stick``) or an error
    (``fail``). SNAPSHOT_SECONDS_KEY makes it take that long (at most
    120 s), the server's task state pending meanwhile, as a real disk's
    snapshot is."""
    time.sleep(min(float(instance.metadata.get(SNAPSHOT_SECONDS_KEY) or 0),
                   120))
    _FAKE_SNAPSHOT(self, context, instance, image_id, update_task_state)
    how = instance.metadata.get(SNAPSHOT_KEY)
    if how == 'stick':
        return
    if how == 'fail':
        raise exception.NovaException(
            'snapshot failed on purpose (%s)' % SNAPSHOT_KEY)
    # raw: Glance inspects the data, and zeros are no qcow2 (415)
    nova.image.glance.API().update(
        context, image_id, {'disk_format': 'raw', 'container_format': 'bare'},
        data=io.BytesIO(bytes(SNAPSHOT_BYTES)), purge_props=False)


def _spawn(self, context, instance, *args, **kwargs):
    """The fake driver's spawn, as slow as the server asks (BUILD_KEY)."""
    time.sleep(min(float(instance.metadata.get(BUILD_KEY) or 0), 120))
    _FAKE_SPAWN(self, context, instance, *args, **kwargs)


def _log_to(log_file):
    """The harness buffers logs in memory forever; send them to a file."""
    from oslo_log import formatters
    fmt = formatters.ContextFormatter(project='nova', version='peer')
    stream = open(log_file, 'a', buffering=1)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
            handler.setFormatter(fmt)
            handler.setLevel(logging.INFO)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--keystone-url', required=True)
    parser.add_argument('--glance-url', required=True)
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--ready-file', required=True)
    parser.add_argument('--log-file', required=True)
    opts = parser.parse_args()
    Harness.opts = opts
    harness = Harness('test_peer')
    harness.setUp()

    # Nova's test warnings fixture turns SQLAlchemy 2.1 deprecations into
    # errors (builds then hang in BUILD); its 10 ms idle poll burns CPU.
    warnings.resetwarnings()
    warnings.simplefilter('ignore')
    import futurist._thread
    futurist._thread.ThreadWorker.MAX_IDLE_FOR = 1
    for quota in ('instances', 'cores', 'ram', 'key_pairs',
                  'metadata_items'):
        harness.flags(**{quota: -1, 'group': 'quota'})
    harness.flags(response_validation='warn', group='api')
    harness.useFixture(fixtures.MonkeyPatch(
        'nova.api.auth.NovaKeystoneContext._create_context',
        _REAL_CREATE_CONTEXT))
    # One Placement GET per instance on the host at every claim slows
    # creates as servers pile up; the fake driver never needs it.
    harness.useFixture(fixtures.MonkeyPatch(
        'nova.scheduler.client.report.SchedulerReportClient.'
        'get_allocations_for_provider_tree', lambda self, ctx, node: {}))
    _log_to(opts.log_file)

    from cheroot import wsgi as cheroot_wsgi
    server = cheroot_wsgi.Server(('127.0.0.1', opts.port),
                                 harness.api_fixture.app(),
                                 numthreads=8, server_name='nova-peer')
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    with open(opts.ready_file + '.tmp', 'w') as ready:
        json.dump({'pid': os.getpid()}, ready)
    os.replace(opts.ready_file + '.tmp', opts.ready_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(1):
        pass
    server.stop()
    os._exit(0)


if __name__ == '__main__':
    try:
        main()
    except BaseException:
        import traceback
        os.write(2, traceback.format_exc().encode())
        os._exit(1)
