"""The real ``openstack`` command, run in this process against a cloud
made of requests-mock: Keystone (a password login whose catalog has
Nova, Cinder, Neutron, Glance and Octavia) and a small store per service that
(and Octavia's)
answers listings, shows and creates as the APIs do, as far as OSC's create
commands and idemclient's lookups go. What a test learns is what was
sent: ``requests`` (method, URL, JSON body).

It exists so that a create an OSC release moves to another call, or a
catalog that sends a command down another path, fails a unit test.
"""

import io
import os
import re
import urllib.parse
import uuid

import fixtures
import requests_mock

from idemclient.clients import later

KEYSTONE = 'http://keystone.example/v3'
NOVA = 'http://nova.example/v2.1'
CINDER = 'http://cinder.example/v3/proj'
NEUTRON = 'http://neutron.example'
GLANCE = 'http://glance.example'
OCTAVIA = 'http://octavia.example'  # as Octavia is listed: no version
ENDPOINTS = {'identity': KEYSTONE, 'compute': NOVA, 'volumev3': CINDER,
             'block-storage': CINDER, 'network': NEUTRON, 'image': GLANCE,
             'load-balancer': OCTAVIA}
# Whose request it is after the login: its project and user.
PROJECT, USER = 'proj', 'user'

FLAVOR = {'id': 'f1', 'name': 'm1.tiny', 'ram': 512, 'vcpus': 1, 'disk': 1,
          'OS-FLV-EXT-DATA:ephemeral': 0, 'swap': 0, 'rxtx_factor': 1.0,
          'os-flavor-access:is_public': True, 'extra_specs': {},
          'description': None}
IMAGE = {'id': '1a6e0000-0000-4000-8000-00000000000a', 'name': 'cirros',
         'status': 'active', 'visibility': 'public', 'tags': [],
         'container_format': 'bare', 'disk_format': 'qcow2', 'owner': 'x',
         'min_disk': 0, 'min_ram': 0, 'size': 1}
NETWORK = {'id': '2e700000-0000-4000-8000-00000000000b', 'name': 'public',
           'router:external': True, 'project_id': PROJECT, 'tags': [],
           'status': 'ACTIVE', 'subnets': []}
SUBNET = {'id': '5b000000-0000-4000-8000-00000000000e', 'name': 'private',
          'network_id': NETWORK['id'], 'cidr': '10.0.0.0/24', 'tags': []}
VOLUME = {'id': '3a100000-0000-4000-8000-00000000000c', 'name': 'source',
          'status': 'available', 'size': 1, 'metadata': {}}
SERVER = {'id': '4e500000-0000-4000-8000-00000000000d', 'name': 'web',
          'status': 'ACTIVE', 'metadata': {}, 'tags': []}
NEUTRON_EXTENSIONS = ('tag-ports-during-bulk-creation', 'standard-attr-tag',
                      'security-group', 'router', 'external-net')


def _catalog(services, regions):
    return [{'type': kind, 'name': kind, 'id': kind, 'endpoints': [
        {'id': kind + interface + region, 'interface': interface,
         'region': region, 'region_id': region, 'url': ENDPOINTS[kind]}
        for interface in ('public', 'internal') for region in regions]}
        for kind in services]


class Cloud(fixtures.Fixture):
    """requests-mock as the cloud; ``services`` are in the catalog, in
    each of ``regions`` (all at the same endpoints)."""

    def __init__(self, services=tuple(ENDPOINTS), regions=('RegionOne',)):
        super().__init__()
        self.services = services
        self.regions = regions

    def _setUp(self):
        self.mock = requests_mock.Mocker()
        self.mock.start()
        self.addCleanup(self.mock.stop)
        self.store = {}  # (service, collection) -> {id: body}
        # What a one-shot command leaves to another process to send
        # (``clients.later``) is sent here, where the mock sees it.
        self.detached = []  # the calls each command left

        def spawn(calls):
            self.detached.append(calls)
            later.send(calls)
            return True
        self.useFixture(fixtures.MockPatch(
            'idemclient.clients.later.spawn', spawn))
        self.mock.get(KEYSTONE, json={'version': {
            'id': 'v3.14', 'status': 'stable', 'media-types': [],
            'links': [{'rel': 'self', 'href': KEYSTONE + '/'}]}})
        self.mock.post(KEYSTONE + '/auth/tokens', status_code=201,
                       headers={'X-Subject-Token': 'tok'}, json={'token': {
                           'methods': ['password'],
                           'expires_at': '2099-01-01T00:00:00.000000Z',
                           'issued_at': '2026-01-01T00:00:00.000000Z',
                           'user': {'id': USER, 'name': 'u', 'domain': {
                               'id': 'default', 'name': 'Default'}},
                           'project': {'id': PROJECT, 'name': PROJECT,
                                       'domain': {'id': 'default',
                                                  'name': 'Default'}},
                           'roles': [{'id': 'r', 'name': 'member'}],
                           'catalog': _catalog(self.services,
                                               self.regions)}})
        self.mock.register_uri(requests_mock.ANY, re.compile(
            r'http://(nova|cinder|neutron|glance|octavia)\.example'),
            json=self._answer)
        self.put('compute', 'flavors', FLAVOR)
        self.put('compute', 'servers', SERVER)
        self.put('image', 'images', IMAGE)
        self.put('network', 'networks', NETWORK)
        self.put('network', 'subnets', SUBNET)
        self.put('volume', 'volumes', VOLUME)

    def put(self, service, collection, body):
        self.store.setdefault((service, collection), {})[body['id']] = body

    # -- running the command ------------------------------------------
    def openstack(self, *argv, journal, home, region='RegionOne',
                  env=None):
        """Run ``openstack argv`` here: (exit status, stdout, stderr);
        ``env``: more environment (None unsets a variable)."""
        from openstackclient import shell
        variables = {name: None for name in _os_variables()}
        variables.update(
            OS_AUTH_URL=KEYSTONE, OS_USERNAME='u', OS_PASSWORD='p',
            OS_PROJECT_NAME=PROJECT, OS_USER_DOMAIN_NAME='Default',
            OS_PROJECT_DOMAIN_NAME='Default',
            OS_IDENTITY_API_VERSION='3', OS_REGION_NAME=region,
            OS_CLOUD=None, IDEMCLIENT_JOURNAL=journal, HOME=home,
            IDEMCLIENT_COORDINATION_URL=None)
        variables.update(env or {})
        out, err = io.StringIO(), io.StringIO()
        with fixtures.EnvironmentVariable('HOME', home):
            with _environment(variables), _streams(out, err):
                try:
                    code = shell.main(list(argv))
                except SystemExit as exc:  # as the process would end
                    code = exc.code
        return code, out.getvalue(), err.getvalue()

    def requests(self, method=None, host=None):
        """What was sent: (method, URL, JSON body or None)."""
        found = []
        for request in self.mock.request_history:
            if method and request.method != method:
                continue
            if host and not request.url.startswith(host):
                continue
            try:
                body = request.json()
            except (ValueError, TypeError):
                body = None
            found.append((request.method, request.url, body))
        return found

    # -- the services -------------------------------------------------
    def _answer(self, request, context):
        host = request.url.split('/')[2].split('.')[0]
        answer = {'nova': self._nova, 'cinder': self._cinder,
                  'neutron': self._neutron, 'glance': self._glance,
                  'octavia': self._octavia}[host]
        body = answer(request, context, request.path.rstrip('/'))
        if body is None and context.status_code < 300:
            context.status_code = 404
            return {'itemNotFound': {'message': 'not found %s %s' % (
                request.method, request.url), 'code': 404}}
        return body

    def _find(self, service, collection, item):
        return self.store.get((service, collection), {}).get(item)

    def _made(self, service, collection, body, **extra):
        made = dict(body, id=body.get('id') or str(uuid.uuid4()),
                    created_at='2026-12-04T00:00:00Z', **extra)
        self.put(service, collection, made)
        return made

    def _nova(self, request, context, path):
        path = path[len('/v2.1'):]
        if path == '':
            return {'version': {'id': 'v2.1', 'status': 'CURRENT',
                                'version': '2.96', 'min_version': '2.1',
                                'links': [{'rel': 'self',
                                           'href': NOVA + '/'}]}}
        parts = path.strip('/').split('/')
        if request.method == 'GET' and len(parts) == 2 and \
                parts[1] == 'detail':
            return {parts[0]: list(self.store.get(
                ('compute', parts[0]), {}).values())}
        if request.method == 'GET' and parts == ['os-keypairs']:
            return {'keypairs': [{'keypair': k} for k in self.store.get(
                ('compute', 'os-keypairs'), {}).values()]}
        if request.method == 'GET' and len(parts) == 2:
            item = self._find('compute', parts[0], parts[1])
            key = {'os-keypairs': 'keypair'}.get(parts[0], parts[0][:-1])
            return {key: item} if item else None
        if request.method == 'POST' and parts == ['servers']:
            context.status_code = 202
            asked = request.json()['server']
            return {'server': self._made(
                'compute', 'servers', asked, status='BUILD', addresses={},
                flavor={'id': asked.get('flavorRef')},
                image={'id': asked.get('imageRef')})}
        if request.method == 'POST' and parts == ['os-keypairs']:
            body = dict(request.json()['keypair'], fingerprint='fp',
                        user_id=USER, type='ssh')
            body.setdefault('public_key', 'ssh-ed25519 AAAA idem')
            body['id'] = body['name']
            self.put('compute', 'os-keypairs', body)
            return {'keypair': body}
        if request.method == 'POST' and parts[0] == 'servers' and \
                parts[-1] == 'action':
            action = request.json()
            if 'createImage' in action:
                image = self._made('image', 'images', dict(
                    name=action['createImage']['name'], status='queued',
                    tags=[], visibility='private', owner=PROJECT,
                    **action['createImage'].get('metadata', {})))
                context.status_code = 202
                return {'image_id': image['id']}
        return None

    def _cinder(self, request, context, path):
        if path in ('', '/v3', '/v3/proj'):
            return {'versions': [{'id': 'v3.0', 'status': 'CURRENT',
                                  'version': '3.70', 'min_version': '3.0',
                                  'links': [{'rel': 'self',
                                             'href': CINDER + '/'}]}]}
        parts = path[len('/v3/proj/'):].split('/')
        collection = parts[0]
        if request.method == 'GET' and parts[-1] == 'detail' or \
                request.method == 'GET' and len(parts) == 1:
            return {collection: list(self.store.get(
                ('volume', collection), {}).values())}
        if request.method == 'GET' and len(parts) == 2:
            item = self._find('volume', collection, parts[1])
            return {collection[:-1]: item} if item else None
        if request.method == 'POST' and len(parts) == 1:
            key = collection[:-1]
            context.status_code = 202
            return {key: self._made('volume', collection,
                                    request.json()[key], status='creating')}
        return None

    def _neutron(self, request, context, path):
        if path == '':
            return {'versions': [{'id': 'v2.0', 'status': 'CURRENT',
                                  'links': [{'rel': 'self',
                                             'href': NEUTRON + '/v2.0/'}]}]}
        parts = path[len('/v2.0/'):].split('/')
        collection = parts[0]
        key = collection.replace('-', '_')
        singular = {'floatingips': 'floatingip', 'security_groups':
                    'security_group'}.get(key, key[:-1])
        if collection == 'extensions' and len(parts) == 2:
            return {'extension': {'alias': parts[1], 'name': parts[1]}} \
                if parts[1] in NEUTRON_EXTENSIONS else None
        if collection == 'extensions':
            return {'extensions': [{'alias': alias, 'name': alias}
                                   for alias in NEUTRON_EXTENSIONS]}
        if request.method == 'GET' and len(parts) == 1:
            items = list(self.store.get(('network', collection),
                                        {}).values())
            wanted = {k: v for k, v in request.qs.items()
                      if k in ('name', 'id')}
            # Neutron matches descriptions exactly (``qs`` lowers them).
            exact = urllib.parse.parse_qs(urllib.parse.urlsplit(
                request.url).query).get('description')
            return {key: [i for i in items if all(
                str(i.get(k)).lower() in v for k, v in wanted.items()) and (
                exact is None or i.get('description') in exact)]}
        if request.method == 'GET' and len(parts) == 2:
            item = self._find('network', collection, parts[1])
            return {singular: item} if item else None
        if request.method == 'POST' and len(parts) == 1:
            context.status_code = 201
            return {singular: self._made(
                'network', collection, dict(
                    {'tags': [], 'security_group_rules': []},
                    **request.json()[singular]), project_id=PROJECT)}
        if request.method == 'PUT' and len(parts) == 3 and \
                parts[2] == 'tags':
            return request.json()
        return None

    def _glance(self, request, context, path):
        if path == '':
            return {'versions': [{'id': 'v2.17', 'status': 'CURRENT',
                                  'links': [{'rel': 'self',
                                             'href': GLANCE + '/v2/'}]}]}
        parts = path[len('/v2/'):].split('/')
        if parts[0] == 'schemas':
            return {'name': parts[-1], 'properties': {},
                    'additionalProperties': {'type': 'string'}}
        if request.method == 'GET' and parts == ['images']:
            # Filtered as Glance does: on properties, and hidden images
            # only when asked for.
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(
                request.url).query)
            hidden = query.pop('os_hidden', ['false']) == ['true']
            for paging in ('limit', 'marker', 'sort_key', 'sort_dir'):
                query.pop(paging, None)
            return {'images': [i for i in self.store.get(
                ('image', 'images'), {}).values()
                if bool(i.get('os_hidden')) == hidden and all(
                    str(i.get(k)) in v for k, v in query.items())]}
        if request.method == 'GET' and len(parts) == 2:
            return self._find('image', 'images', parts[1])
        if request.method == 'POST' and parts == ['images']:
            body = request.json()
            if self._find('image', 'images', body.get('id')):
                context.status_code = 409
                return {'message': 'Conflict'}
            context.status_code = 201
            return self._made('image', 'images', dict(body, status='queued'))
        if request.method == 'PATCH' and len(parts) == 2:
            return self._find('image', 'images', parts[1])
        if request.method == 'PUT' and parts[-1] == 'file':
            context.status_code = 204
            return {}
        return None

    def _octavia(self, request, context, path):
        """Load balancers: filtered on every tag of ``tags`` and on
        ``project_id``, made ``PENDING_CREATE``."""
        parts = path[len('/v2.0/lbaas/'):].split('/')
        if parts[0] != 'loadbalancers':
            return None
        if request.method == 'GET' and len(parts) == 1:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(
                request.url).query)
            tags = set(','.join(query.get('tags', [])).split(',')) - {''}
            return {'loadbalancers': [
                i for i in self.store.get(('load-balancer', 'loadbalancers'),
                                          {}).values()
                if tags <= set(i['tags']) and i['project_id'] in query.get(
                    'project_id', [i['project_id']])]}
        if request.method == 'GET' and len(parts) == 2:
            item = self._find('load-balancer', 'loadbalancers', parts[1])
            return {'loadbalancer': item} if item else None
        if request.method == 'POST' and len(parts) == 1:
            context.status_code = 201
            return {'loadbalancer': self._made(
                'load-balancer', 'loadbalancers', dict(
                    {'tags': [], 'listeners': [], 'pools': []},
                    **request.json()['loadbalancer']), project_id=PROJECT,
                provisioning_status='PENDING_CREATE',
                operating_status='OFFLINE')}
        return None


def _os_variables():
    return [name for name in os.environ if name.startswith('OS_')]


class _environment(fixtures.Fixture):
    """Set (or, for None, unset) environment variables."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def _setUp(self):
        for name, value in self.values.items():
            self.useFixture(fixtures.EnvironmentVariable(name, value))


class _streams(fixtures.Fixture):
    def __init__(self, out, err):
        super().__init__()
        self.out, self.err = out, err

    def _setUp(self):
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.err))
