"""``idemclient.api`` on an openstacksdk Connection, against the cloud of
requests-mock that the real ``openstack`` command also runs on: every
kind the command protects, one token for both."""

import os

import openstack.connection

from idemclient import api
from idemclient.core import registry
from idemclient.tests.unit import osc_cloud
from idemclient.tests.unit import test_osc_commands

# kind -> (its OSC command, the SDK arguments that command passes)
ATTRS = {
    'server': ('server create', dict(
        name='s1', flavor_id=osc_cloud.FLAVOR['id'],
        image_id=osc_cloud.IMAGE['id'], networks='none')),
    'keypair': ('keypair create', dict(name='k1')),
    'volume': ('volume create', dict(name='v1', size=1)),
    'snapshot': ('volume snapshot create', dict(
        name='n1', volume_id=osc_cloud.VOLUME['id'])),
    'backup': ('volume backup create', dict(
        name='b1', volume_id=osc_cloud.VOLUME['id'])),
    'network': ('network create', dict(name='w1')),
    'port': ('port create', dict(name='p1',
                                 network_id=osc_cloud.NETWORK['id'])),
    'router': ('router create', dict(name='r1')),
    'security_group': ('security group create', dict(name='g1')),
    'floating_ip': ('floating ip create', dict(
        floating_network_id=osc_cloud.NETWORK['id'])),
    'image': ('image create', dict(name='i1', filename='DATA')),
    'server_image': ('server image create', dict(
        server=osc_cloud.SERVER['id'], name='m1')),
    'load_balancer': ('loadbalancer create', dict(
        name='l1', vip_subnet_id=osc_cloud.SUBNET['id'])),
}


def connect():
    return openstack.connection.Connection(
        auth_url=osc_cloud.KEYSTONE, username='u', password='p',
        project_name=osc_cloud.PROJECT, user_domain_name='Default',
        project_domain_name='Default', region_name='RegionOne',
        identity_api_version='3')


class ApiTestCase(test_osc_commands.OscTestCase):

    def setUp(self):
        super().setUp()
        self.cloud = self.useFixture(osc_cloud.Cloud())
        self.said = []
        self.data = os.path.join(self.home, 'image.raw')
        with open(self.data, 'wb') as f:
            f.write(b'\0' * 512)

    def argv(self, kind):
        """The kind's command (an image's with the API's data file)."""
        argv = test_osc_commands.COMMANDS[ATTRS[kind][0]][0]
        if kind == 'image':
            argv = argv[:-1] + ('--file', self.data) + argv[-1:]
        return argv

    def create(self, kind, journal=None, token='T', **extra):
        attrs = dict(ATTRS[kind][1], **extra)
        if attrs.get('filename') == 'DATA':
            attrs['filename'] = self.data
        return api.create(connect(), kind, client_token=token,
                          journal=journal or self.journal,
                          progress=self.said.append, **attrs)

    def posts(self, kind):
        _, method, path = test_osc_commands.COMMANDS[ATTRS[kind][0]]
        return self.creates(self.cloud, method, path)


class TestEveryKind(ApiTestCase):
    """The API and the command name one request with one token."""

    def test_every_kind_of_the_registry_is_here(self):
        self.assertEqual(sorted(registry.BY_COMMAND),
                         sorted(command for command, _ in ATTRS.values()))
        self.assertEqual(sorted(ATTRS), sorted(api.CREATES))

    def check(self, kind):
        argv = self.argv(kind)
        code, out, err = self.run_command(
            self.cloud, *(argv + ('--client-token', 'T', '-f', 'json')))
        self.assertEqual(0, code, err)
        self.assertEqual(1, len(self.posts(kind)))
        # From another host (a journal of its own), but a keypair's
        # private key, which stays on the host that made it.
        journal = self.journal if kind == 'keypair' else os.path.join(
            self.home, 'api.sqlite')
        found = self.create(kind, journal)
        self.assertEqual(1, len(self.posts(kind)), 'the API sent a create')
        self.assertEqual('existed', found.outcome)
        if kind == 'keypair':
            self.assertIn('PRIVATE KEY', found.private_key)
            self.assertIn(found.private_key, out)  # the command's key
        else:
            self.assertIsNone(found.private_key)
        # And the other way: the API first, the command finds it.
        fresh = self.useFixture(osc_cloud.Cloud())
        self.cloud = fresh
        made = self.create(kind, token='U')
        self.assertEqual('created', made.outcome)
        self.assertEqual(1, len(self.posts(kind)))
        code, out, err = self.run_command(
            fresh, *(argv + ('--client-token', 'U', '-f', 'json')))
        self.assertEqual(0, code, err)
        self.assertEqual(1, len(self.posts(kind)), 'the command sent one')


for _kind in ATTRS:
    setattr(TestEveryKind, 'test_' + _kind,
            lambda self, kind=_kind: self.check(kind))


class TestCreate(ApiTestCase):

    def test_a_retry_returns_the_same_resource_and_says_so(self):
        made = self.create('network')
        again = self.create('network')
        self.assertEqual(('created', 'existed'), (made.outcome,
                                                  again.outcome))
        self.assertEqual(made.resource.id, again.resource.id)
        self.assertEqual(made.task_id, again.task_id)
        self.assertEqual(1, len(self.posts('network')))
        self.assertTrue(any('no create was sent' in line
                            for line in self.said), self.said)

    def test_the_task_id_is_the_journals_and_task_reads_it(self):
        made = self.create('network')
        shown = api.task(connect(), made.task_id, journal=self.journal)
        self.assertEqual((made.task_id, 'network.create', made.resource.id,
                          'created'),
                         (shown['uuid'], shown['task'], shown['resource'],
                          shown['outcome']))

    def test_other_parameters_are_refused_before_sending(self):
        self.create('network')
        exc = self.assertRaises(api.Refused, self.create, 'network',
                                name='w2')
        self.assertIn('different: name', str(exc))
        self.assertEqual(1, len(self.posts('network')))

    def test_bad_input_is_refused_before_anything_is_sent(self):
        conn = connect()
        for call, needle in (
                (lambda: api.create(conn, 'nebula', client_token='T'),
                 "No kind 'nebula'"),
                (lambda: api.create(conn, 'network', name='n'),
                 'A client token or a task tag is needed'),
                (lambda: api.create(conn, 'network', client_token='',
                                    name='n'), 'Invalid client token'),
                (lambda: api.create(conn, 'network', client_token='T',
                                    retries=99, journal=self.journal,
                                    name='n'), 'from 0 to 10')):
            exc = self.assertRaises(api.Refused, call)
            self.assertIn(needle, str(exc))
            self.assertIn('Nothing was sent', str(exc))
        self.assertEqual([], self.cloud.requests('POST', osc_cloud.NEUTRON))

    def test_the_proxy_is_left_as_it_was(self):
        conn = connect()
        before = conn.network.create_network
        api.create(conn, 'network', client_token='T', journal=self.journal,
                   name='w1')
        self.assertRaises(api.Refused, api.create, conn, 'network',
                          client_token='T', journal=self.journal, name='w2')
        self.assertNotIn('create_network', vars(conn.network))
        self.assertEqual(before, conn.network.create_network)

    def test_as_the_command_sends_fills_only_what_is_missing(self):
        self.assertEqual({'name': 'n', 'admin_state_up': False},
                         api.as_the_command_sends(
                             'network', {'name': 'n',
                                         'admin_state_up': False}))
        self.assertEqual({'name': 'g', 'description': 'g'},
                         api.as_the_command_sends('security_group',
                                                  {'name': 'g'}))


class TestTask(ApiTestCase):
    """By id, and by tag from another host (the tag's slot, listed with
    the filters the cloud's Glance applies)."""

    def test_by_tag_from_another_host_and_no_such_tag(self):
        made = api.create(connect(), 'network', task_tag='nightly',
                          journal=self.journal, name='w1')
        elsewhere = os.path.join(self.home, 'other.sqlite')
        shown = api.task(connect(), tag='nightly', journal=elsewhere)
        self.assertEqual((made.task_id, 'network.create', made.resource.id),
                         (shown['uuid'], shown['task'], shown['resource']))
        self.assertRaises(LookupError, api.task, connect(), tag='never',
                          journal=elsewhere)

    def test_an_id_or_a_tag_not_both(self):
        self.assertRaises(ValueError, api.task, connect(), 'x', tag='y')
        self.assertRaises(ValueError, api.task, connect())
