"""Every registry row through the real ``openstack`` command (OSC's own
parsing, SDK calls and output) against a cloud of requests-mock: with a
token, its one create request carries the token's marker. An OSC release
that moves a create to a call the hook does not wrap fails here, and such
a path is refused before anything is sent."""

import hashlib
import json
import os
import re

import fixtures
from openstack.network.v2 import network as sdk_network
from openstackclient.network.v2 import network as osc_network
import testtools

from idemclient.core import registry
from idemclient import reservations
from idemclient.tests.unit import osc_cloud

# command -> (its arguments with token T, the create's method and path)
COMMANDS = {
    'server create': (
        ('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros',
         '--nic', 'none', 's1'), 'POST', '/v2.1/servers'),
    'keypair create': (('keypair', 'create', 'k1'), 'POST',
                       '/v2.1/os-keypairs'),
    'volume create': (('volume', 'create', '--size', '1', 'v1'), 'POST',
                      '/v3/proj/volumes'),
    'volume snapshot create': (
        ('volume', 'snapshot', 'create', '--volume', 'source', 'n1'),
        'POST', '/v3/proj/snapshots'),
    'volume backup create': (
        ('volume', 'backup', 'create', '--name', 'b1', 'source'), 'POST',
        '/v3/proj/backups'),
    'network create': (('network', 'create', 'w1'), 'POST',
                       '/v2.0/networks'),
    'port create': (('port', 'create', '--network', 'public', 'p1'), 'POST',
                    '/v2.0/ports'),
    'router create': (('router', 'create', 'r1'), 'POST', '/v2.0/routers'),
    'security group create': (('security', 'group', 'create', 'g1'), 'POST',
                              '/v2.0/security-groups'),
    'floating ip create': (('floating', 'ip', 'create', 'public'), 'POST',
                           '/v2.0/floatingips'),
    'image create': (('image', 'create', '--disk-format', 'raw',
                      '--container-format', 'bare', 'i1'), 'POST',
                     '/v2/images'),
    'server image create': (
        ('server', 'image', 'create', '--name', 'm1', 'web'), 'POST',
        '/v2.1/servers/%s/action' % osc_cloud.SERVER['id']),
    'loadbalancer create': (
        ('loadbalancer', 'create', '--vip-subnet-id', 'private', '--name',
         'l1'), 'POST', '/v2.0/lbaas/loadbalancers'),
}


def outcome_of(out):
    """``idemclient_outcome`` in a command's JSON output, or None."""
    try:
        return json.loads(out).get('idemclient_outcome')
    except ValueError:
        return None


def carried_markers(text):
    """The token markers in a request body: idemclient's ``idem-<8
    hex>-~<hex>`` tags, whole or as Neutron's ``k=<16 hex>`` (the first
    64 bits of the marker's SHA-256, ``kinds.neutron``)."""
    whole = set(re.findall(r'idem-[0-9a-f]{8}-~[0-9a-f]+', text))
    short = set(re.findall(r'\[idem k=([0-9a-f]{16})', text))
    return whole | {'k=' + s for s in short}


def short_form(marker):
    return 'k=' + hashlib.sha256(marker.encode()).hexdigest()[:16]


class OscTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.home = self.useFixture(fixtures.TempDir()).path
        self.journal = os.path.join(self.home, 'journal.sqlite')

    def run_command(self, cloud, *argv):
        return cloud.openstack(*argv, journal=self.journal, home=self.home)

    def creates(self, cloud, method, path):
        return [body for m, url, body in cloud.requests(method)
                if url.split('?')[0].endswith(path)]


class TestEveryRow(OscTestCase):

    def test_every_command_of_the_registry_is_here(self):
        self.assertEqual(sorted(registry.BY_COMMAND), sorted(COMMANDS))

    def check(self, command):
        argv, method, path = COMMANDS[command]
        plain = self.useFixture(osc_cloud.Cloud())
        code, out, err = self.run_command(plain, *argv)
        self.assertEqual(0, code, err)
        [sent] = self.creates(plain, method, path)
        self.assertEqual(set(), carried_markers(json.dumps(sent)),
                         'a create without a token carries no marker')
        self.assertNotIn('idemclient_outcome', out)

        cloud = self.useFixture(osc_cloud.Cloud())
        code, out, err = self.run_command(
            cloud, *(argv + ('--client-token', 'T', '-f', 'json')))
        self.assertEqual(0, code, err)
        [sent] = self.creates(cloud, method, path)
        markers = carried_markers(json.dumps(sent))
        self.assertEqual(1, len({m for m in markers if m.startswith('k=')} |
                                {short_form(m) for m in markers
                                 if not m.startswith('k=')}),
                         'the create carries one token marker: %s' % sent)
        self.assertEqual(self.outcome('created', command), outcome_of(out))
        # Its outcome, on the reservation: left to a process the command
        # does not wait for (``osc_cloud`` runs it here, for the mock).
        reserves = registry.reserves(registry.BY_COMMAND[command])
        self.assertEqual(1 if reserves else 0, len(cloud.detached))
        recorded = [body for _, _, body in cloud.requests(
            'PATCH', osc_cloud.GLANCE) if body and body[0]['path'] ==
            '/' + reservations.RESOURCES_KEY]
        self.assertEqual(1 if reserves else 0, len(recorded), recorded)
        # The same token again: found by that marker, nothing sent.
        code, out, err = self.run_command(
            cloud, *(argv + ('--client-token', 'T', '-f', 'json')))
        self.assertEqual(0, code, err)
        self.assertEqual(1, len(self.creates(cloud, method, path)))
        self.assertEqual(self.outcome('existed', command), outcome_of(out))
        if command != 'keypair create':  # its private key stays on a host
            # Another host: found on the cloud, nothing sent.
            code, out, err = cloud.openstack(
                *(argv + ('--client-token', 'T', '-f', 'json')),
                journal=os.path.join(self.home, 'other.sqlite'),
                home=self.home)
            self.assertEqual(0, code, err)
            self.assertEqual(1, len(self.creates(cloud, method, path)))
            self.assertEqual('existed', outcome_of(out))

    @staticmethod
    def outcome(expected, command):
        """A generated key's create prints the private key, not the
        keypair: there is no output to add the outcome to."""
        return None if command == 'keypair create' else expected

    def test_server_create(self):
        self.check('server create')

    def test_keypair_create(self):
        self.check('keypair create')

    def test_volume_create(self):
        self.check('volume create')

    def test_volume_snapshot_create(self):
        self.check('volume snapshot create')

    def test_volume_backup_create(self):
        self.check('volume backup create')

    def test_network_create(self):
        self.check('network create')

    def test_port_create(self):
        self.check('port create')

    def test_router_create(self):
        self.check('router create')

    def test_security_group_create(self):
        self.check('security group create')

    def test_floating_ip_create(self):
        self.check('floating ip create')

    def test_image_create(self):
        self.check('image create')

    def test_server_image_create(self):
        self.check('server image create')

    def test_loadbalancer_create(self):
        self.check('loadbalancer create')


def _moved_create(self, parsed_args):
    """OSC's network create as a release might write it: the SDK's
    generic ``_create`` instead of ``create_network``."""
    client = self.app.client_manager.network
    made = client._create(sdk_network.Network, name=parsed_args.name)
    return ('id',), (made.id,)


class TestPathsNotProtected(OscTestCase):

    def test_a_create_moved_to_another_call_is_refused(self):
        self.useFixture(fixtures.MockPatchObject(
            osc_network.CreateNetwork, 'take_action', _moved_create))
        cloud = self.useFixture(osc_cloud.Cloud())
        code, out, err = self.run_command(
            cloud, 'network', 'create', '--client-token', 'T', 'w1')
        self.assertEqual(1, code, (out, err, cloud.requests()))
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertIn('POST /networks to the network service', err)
        self.assertIn('--client-token would be ignored', err)
        self.assertIn('Nothing was sent.', err)
        self.assertEqual([], self.creates(cloud, 'POST', '/v2.0/networks'))
        # Without a token the moved create is the user's business.
        code, out, err = self.run_command(cloud, 'network', 'create', 'w2')
        self.assertEqual(0, code, err)

    def test_a_catalog_without_network_is_refused_in_one_line(self):
        cloud = self.useFixture(osc_cloud.Cloud(services=(
            'identity', 'compute', 'image', 'volumev3', 'block-storage')))
        code, out, err = self.run_command(
            cloud, 'security', 'group', 'create', '--client-token', 'T',
            'g1')
        self.assertEqual(1, code)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertIn('no network endpoint', err)
        self.assertIn('Nothing was sent.', err)
        self.assertEqual([], cloud.requests('POST', osc_cloud.NOVA))


class TestRegions(OscTestCase):
    """Region-aware scopes through the real command: both regions of the
    fake cloud are the same services, so what keeps them apart is the
    marker (and the journal's scope)."""

    def markers_of_network_creates(self, cloud):
        return [carried_markers(json.dumps(body)) for body in self.creates(
            cloud, 'POST', '/v2.0/networks')]

    def test_one_token_is_one_request_per_region(self):
        cloud = self.useFixture(osc_cloud.Cloud(
            regions=('RegionOne', 'RegionTwo')))
        argv = ('network', 'create', '--client-token', 'T', '-f', 'json',
                'w1')
        made = {}
        for region in ('RegionOne', 'RegionTwo', 'RegionOne', 'RegionTwo'):
            code, out, err = cloud.openstack(*argv, journal=self.journal,
                                             home=self.home, region=region)
            self.assertEqual(0, code, err)
            made.setdefault(region, set()).add(json.loads(out)['id'])
        self.assertEqual([1, 1], [len(ids) for ids in made.values()])
        self.assertNotEqual(made['RegionOne'], made['RegionTwo'])
        one, two = self.markers_of_network_creates(cloud)
        self.assertNotEqual(one, two)
        # From another host (an empty journal), each region finds its own.
        for region in ('RegionOne', 'RegionTwo'):
            code, out, err = cloud.openstack(
                *argv, journal=os.path.join(self.home, 'other.sqlite'),
                home=self.home, region=region)
            self.assertEqual(0, code, err)
            self.assertEqual(made[region], {json.loads(out)['id']})
        self.assertEqual(2, len(self.markers_of_network_creates(cloud)))

    def test_a_one_region_cloud_keeps_the_markers_it_had(self):
        cloud = self.useFixture(osc_cloud.Cloud())
        code, out, err = self.run_command(
            cloud, 'network', 'create', '--client-token', 'T', 'w1')
        self.assertEqual(0, code, err)
        # What releases before regions derived for (auth URL, project,
        # user): the first 8 hex digits of SHA-256 over the three, joined
        # by NUL; then, 'T' not being tag-safe, '~' and the first 45 of its
        # SHA-256 (``core.token.derive_tag``).
        scope = hashlib.sha256('\0'.join((
            osc_cloud.KEYSTONE, osc_cloud.PROJECT, osc_cloud.USER)).encode()
        ).hexdigest()
        legacy = 'idem-%s-~%s' % (scope[:8],
                                  hashlib.sha256(b'T').hexdigest()[:45])
        self.assertEqual([{short_form(legacy)}],
                         self.markers_of_network_creates(cloud))


class TestCloudsYaml(OscTestCase):
    """idemclient's keys in the cloud's ``clouds.yaml`` entry reach it
    through OSC's own configuration (``--os-cloud``)."""

    def run_in_cloud(self, cloud, entry, *argv):
        path = os.path.join(self.home, 'clouds.yaml')
        with open(path, 'w') as f:
            f.write('clouds:\n  local:\n    auth:\n      auth_url: %s\n%s'
                    % (osc_cloud.KEYSTONE, ''.join(
                        '    %s: %s\n' % item for item in entry.items())))
        return cloud.openstack('--os-cloud', 'local', *argv,
                               journal=self.journal, home=self.home,
                               env={'OS_CLIENT_CONFIG_FILE': path})

    def test_a_bad_retries_value_is_refused_before_sending(self):
        cloud = self.useFixture(osc_cloud.Cloud())
        code, out, err = self.run_in_cloud(
            cloud, {'idemclient_retries': 'many'}, 'network', 'create',
            '--client-token', 'T', 'w1')
        self.assertEqual(1, code)
        self.assertIn('idemclient_retries in clouds.yaml must be a whole '
                      'number from 0 to 10', err)
        self.assertEqual([], self.creates(cloud, 'POST', '/v2.0/networks'))

    def test_the_retries_it_gives_are_made(self):
        cloud = self.useFixture(osc_cloud.Cloud())
        cloud.mock.post(osc_cloud.NEUTRON + '/v2.0/networks',
                        status_code=503, json={'message': 'busy'})
        code, out, err = self.run_in_cloud(
            cloud, {'idemclient_retries': 1}, 'network', 'create',
            '--client-token', 'T', 'w1')
        self.assertEqual(75, code, err)
        self.assertEqual(2, len(self.creates(cloud, 'POST',
                                             '/v2.0/networks')))
        self.assertEqual(1, err.count('trying again in'), err)
        self.assertIn('After 2 tries', err)
