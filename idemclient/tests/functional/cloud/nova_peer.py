"""Real Nova (API, conductor, scheduler, fake-driver compute) in one process.

Nova's own functional-test harness brings the services up over the in-process
``fake:`` transport with real Placement; this module serves the real API
paste pipeline (real keystonemiddleware ``auth_token`` against the local
Keystone, real policy) on a TCP socket, plus a read-only Image v2 stand-in at
``/image`` so OSC can resolve ``--image cirros``. Condensed from
/work/shared/reference/nova/peer_ks.py; see real-openstack.md for the traps.

Usage: python nova_peer.py --port P --keystone-url URL --state-dir D
                           --ready-file F --log-file L
"""
import os
import sys

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
os.environ['OS_TEST_TIMEOUT'] = '0'
os.environ.pop('OS_STDOUT_CAPTURE', None)
os.environ.pop('OS_STDERR_CAPTURE', None)

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import threading  # noqa: E402
import urllib.parse  # noqa: E402
import warnings  # noqa: E402

import nova.tests  # noqa: E402,F401  (native threads, see above)
from nova.tests.functional import integrated_helpers  # noqa: E402
import nova.api.auth  # noqa: E402
import nova.conf  # noqa: E402

# The API fixture stubs the context factory with a header-only fake.
_REAL_CREATE_CONTEXT = nova.api.auth.NovaKeystoneContext.__dict__[
    '_create_context']
IMAGE_ID = 'c0ffee00-0000-4000-8000-00000000c1a0'
IMAGE_NAME = 'cirros'


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
        from oslo_db.sqlalchemy import enginefacade
        from oslo_db.sqlalchemy import test_fixtures as db_fixtures
        from oslo_utils.fixture import uuidsentinel as uuids
        from nova import context
        from nova.db.main import api as main_db_api
        from nova.db import migration
        from nova import objects

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
        super()._setup_services()   # the paste app is loaded here

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
                   service_type='compute', token_cache_time=-1)

    def test_peer(self):  # testtools needs a test method to instantiate
        pass


def _iso(value):
    if isinstance(value, datetime.datetime):
        return value.strftime('%Y-%m-%dT%H:%M:%SZ')
    return value


def _image_v2(img):
    keys = ('id', 'name', 'status', 'container_format', 'disk_format',
            'size', 'min_ram', 'min_disk', 'owner')
    out = {k: img[k] for k in keys if k in img}
    out.update(visibility='public', protected=False, os_hidden=False,
               tags=[], checksum=None, virtual_size=None,
               created_at=_iso(img.get('created_at')),
               updated_at=_iso(img.get('updated_at')),
               self='/v2/images/%s' % img['id'],
               file='/v2/images/%s/file' % img['id'],
               schema='/v2/schemas/image')
    for key, value in (img.get('properties') or {}).items():
        out.setdefault(key, value if isinstance(value, str) else str(value))
    return out


def image_app(glance):
    """Read-only Glance v2 subset over the Glance fixture's images."""

    def respond(start_response, status, body):
        data = json.dumps(body).encode()
        start_response(status, [('Content-Type', 'application/json'),
                                ('Content-Length', str(len(data)))])
        return [data]

    def app(environ, start_response):
        path = environ.get('PATH_INFO', '').rstrip('/')
        base = '%s://%s%s' % (environ['wsgi.url_scheme'],
                              environ.get('HTTP_HOST', ''),
                              environ.get('SCRIPT_NAME', ''))
        if environ['REQUEST_METHOD'] != 'GET':
            return respond(start_response, '405 Method Not Allowed',
                           {'error': 'read-only image stand-in'})
        if path in ('', '/versions'):
            return respond(start_response, '200 OK', {'versions': [
                {'id': 'v2.16', 'status': 'CURRENT',
                 'links': [{'rel': 'self', 'href': base + '/v2/'}]}]})
        parts = path.split('/')
        if parts[1:3] == ['v2', 'images'] and len(parts) == 4:
            img = glance.images.get(parts[3])
            if img is None:
                return respond(start_response, '404 Not Found',
                               {'message': 'No image %s' % parts[3]})
            return respond(start_response, '200 OK', _image_v2(img))
        if parts[1:3] == ['v2', 'images'] and len(parts) == 3:
            query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
            images = [_image_v2(i) for i in glance.images.values()]
            if 'name' in query:
                images = [i for i in images if i.get('name') in query['name']]
            if 'id' in query:
                ids = query['id'][0]
                ids = ids[3:].split(',') if ids.startswith('in:') else [ids]
                images = [i for i in images if i['id'] in ids]
            return respond(start_response, '200 OK', {
                'images': images, 'schema': '/v2/schemas/images',
                'first': '/v2/images'})
        return respond(start_response, '404 Not Found', {'message': path})

    return app


def protect(app):
    """auth_token on the stand-in, with its version document anonymous."""
    from keystonemiddleware import auth_token
    protected = auth_token.filter_factory({})(app)

    def middleware(environ, start_response):
        if environ.get('PATH_INFO', '').rstrip('/') in ('', '/versions'):
            return app(environ, start_response)
        return protected(environ, start_response)
    return middleware


def dispatch(nova_app, images):
    def app(environ, start_response):
        path = environ.get('PATH_INFO', '')
        if path == '/image' or path.startswith('/image/'):
            environ['SCRIPT_NAME'] = environ.get('SCRIPT_NAME', '') + '/image'
            environ['PATH_INFO'] = path[len('/image'):]
            return images(environ, start_response)
        return nova_app(environ, start_response)
    return app


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
    import fixtures
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
    image = dict(harness.glance.image1, id=IMAGE_ID, name=IMAGE_NAME)
    image['properties'] = dict(image['properties'])
    harness.glance.create(None, image)
    _log_to(opts.log_file)

    from cheroot import wsgi as cheroot_wsgi
    app = dispatch(harness.api_fixture.app(),
                   protect(image_app(harness.glance)))
    server = cheroot_wsgi.Server(('127.0.0.1', opts.port), app,
                                 numthreads=8, server_name='nova-peer')
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    with open(opts.ready_file + '.tmp', 'w') as ready:
        json.dump({'pid': os.getpid(), 'image': IMAGE_ID}, ready)
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
