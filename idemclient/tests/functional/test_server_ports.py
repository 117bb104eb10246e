"""Servers booted as users boot them, on the local real Neutron: ``server
create --network`` and ``--port`` with a token, after a crash at any point,
a lost answer, and 8 hosts at the same moment, with and without
reservations: one server, and exactly the ports that one server owns.
Everything is counted through the API (servers in Nova, ports in Neutron),
on a network of each test's own, so that other tests' ports never count;
and a plain create without a token shows what leaks without idemclient."""

import json

from idemclient.tests.functional import base
from idemclient.tests.functional import crash_matrix
from idemclient.tests.functional import proxy as proxy_mod

BOOT = ('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros')
# Nova deletes a deleted server's ports while it deletes the server, after
# its API answered: how long a loser's ports may take to go.
PORTS_GONE_SECONDS = 60


class OnItsOwnNetwork(base.FunctionalTestCase):
    """A network and subnet of the test's own (deleted at the end, after
    the servers and their ports)."""

    def setUp(self):
        super().setUp()
        net = self.network('POST', '/networks', json={'network': {
            'name': 'ports-' + self.uid}}).json()['network']
        self.net = net['id']
        self.addCleanup(self.delete_network)
        self.network('POST', '/subnets', json={'subnet': {
            'network_id': self.net, 'ip_version': 4,
            'cidr': '10.9.0.0/24', 'enable_dhcp': False}})

    def network(self, method, path, **kwargs):
        sess = base.session_for('admin')
        endpoint = sess.get_endpoint(service_type='network',
                                     interface='public').rstrip('/')
        return sess.request(endpoint + '/v2.0' + path, method,
                            raise_exc=False, **kwargs)

    def delete_network(self):
        """Once the servers' cleanups deleted them (Nova then deletes
        their ports), the network goes too."""
        self.wait_for(lambda: self.network(
            'DELETE', '/networks/' + self.net).status_code in (204, 404),
            timeout=PORTS_GONE_SECONDS, interval=0.5,
            what='the network to be free of ports')

    def active(self, name, count):
        """The servers named ``name`` once ``count`` are ACTIVE."""
        servers = self.servers_named(name, cleanup=False)
        if len(servers) == count and all(s['status'] == 'ACTIVE'
                                         for s in servers):
            return self.servers_named(name)  # and delete them at the end
        return None

    def ports(self):
        return self.network('GET', '/ports', params={
            'network_id': self.net}).json()['ports']

    def extra_ports(self, name, server_id):
        """The network's ports that are neither ``server_id``'s nor a live
        server's of another name (another trial's): a duplicate's, or a
        leak (its server gone, or none)."""
        live = {s['id']: s['name'] for s in self.compute(
            'GET', '/servers').json()['servers']}
        return [p for p in self.ports() if p['device_id'] != server_id and
                live.get(p['device_id'], name) == name]

    def assertOnlyTheServersPorts(self, name, server_id, count=1):
        """No port of a duplicate or a leak on the network (a loser's go
        with it, shortly after), and ``count`` of ``server_id``'s (Nova
        makes them while it builds the server, after a create without
        ``--wait`` has returned): both at once, within the time a loser's
        ports take to go."""
        seen = []

        def settled():
            extra = self.extra_ports(name, server_id)
            mine = [p for p in self.ports() if p['device_id'] == server_id]
            seen[:] = [extra, mine]
            return mine if not extra and len(mine) == count else None
        try:
            return self.wait_for(settled, timeout=PORTS_GONE_SECONDS,
                                 interval=0.5)
        except self.failureException:
            self.fail('not only %d port(s) of server %s: others %s, its own '
                      '%s' % (count, server_id, seen[0], seen[1]))


class TestServerOnNetwork(crash_matrix.CrashMatrix,
                          crash_matrix.OneCreateAcrossHosts,
                          OnItsOwnNetwork):
    """The crash matrix and 8 hosts for ``--network``: one server, one
    port, bound to it."""

    collection = 'servers'

    def create_args(self, name, token):
        return BOOT + ('--network', self.net, '--client-token', token, name)

    def make(self, name, token, env=None, journal=None):
        return self.osc(*(self.create_args(name, token) + ('-f', 'json')),
                        env=env, journal=journal)

    def held(self, name):
        return [s['id'] for s in self.servers_named(name)]

    def assertCreatedOnce(self, name, token, server_id):
        self.assertEqual([server_id], self.held(name))
        self.assertOnlyTheServersPorts(name, server_id)
        # Nova binds the port after it has made it (a request of its own):
        # a create that does not --wait may return in between.
        self.wait_for(lambda: [('ACTIVE', 'compute:nova')] == [
            (p['status'], p['device_owner']) for p in self.ports()
            if p['device_id'] == server_id],
            timeout=PORTS_GONE_SECONDS, interval=0.5,
            what='server %s to hold one bound port' % server_id)

    def proxy_upstream(self):
        return base.compute_endpoint()

    def endpoint_via(self, proxy):
        return {'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')}

    def test_eight_hosts_at_once_send_one_create(self):
        super().test_eight_hosts_at_once_send_one_create()
        name = 'h8-%s' % self.uid
        [server_id] = self.held(name)
        self.assertOnlyTheServersPorts(name, server_id)

    def test_eight_hosts_without_reservations_settle_to_one_port(self):
        """No reservation: each host creates, the settle step deletes the
        losers, and Nova their ports with them."""
        name, token = 'settle-%s' % self.uid, 'tok-settle-%s' % self.uid
        env = dict(self.barrier(crash_matrix.HOSTS),
                   IDEMCLIENT_FAILPOINT='barrier-after-journal-commit',
                   IDEMCLIENT_RESERVATIONS='off')
        procs = [self.start_osc(
            *(self.create_args(name, token) + ('-f', 'json')),
            env=self.host_env('h%d' % n, env))
            for n in range(crash_matrix.HOSTS)]
        printed = {json.loads(out)['id'] for out in self.outputs(procs)}
        self.assertEqual(1, len(printed), printed)
        [server_id] = printed
        self.wait_for(lambda: self.held(name) == [server_id],
                      timeout=PORTS_GONE_SECONDS, interval=0.5,
                      what='the losers to be deleted')
        self.assertOnlyTheServersPorts(name, server_id)


class TestTaskNamesThePorts(OnItsOwnNetwork):

    def test_task_show_names_the_servers_ports_from_any_host(self):
        name, tag = 'tagged-' + self.uid, 'tag-ports-' + self.uid
        made = json.loads(self.assertOK(self.osc(*(BOOT + (
            '--network', self.net, '--task-tag', tag, name, '-f',
            'json')))).stdout)
        self.servers_named(name)  # deleted at the end
        [port] = self.wait_for(lambda: [
            p for p in self.ports() if p['device_id'] == made['id']],
            timeout=60, interval=0.5, what='the server\'s port')
        for journal in (None, self.tmp + '/other-host.sqlite'):
            shown = json.loads(self.assertOK(self.osc(
                'task', 'show', '--tag', tag, '-f', 'json',
                journal=journal)).stdout)
            self.assertEqual((made['id'], [port['id']]),
                             (shown['resource'], shown['ports']))


class TestServerOnPort(OnItsOwnNetwork):
    """``--port P``: a retry after a lost answer neither makes a second
    server nor fails because P is bound to the first."""

    def make_port(self, name):
        made = self.assertOK(self.osc(
            'port', 'create', '--network', self.net, '--client-token',
            'tok-' + name, name, '-f', 'json'))
        port = json.loads(made.stdout)['id']
        # After the servers' deletes (cleanups run last first): a port
        # the user made stays when its server goes.
        self.addCleanup(self.network, 'DELETE', '/ports/' + port)
        return port

    def boot(self, name, port, *extra, env=None):
        return self.osc(*(BOOT + ('--port', port) + extra + (
            name, '-f', 'json')), env=env)

    def test_a_lost_answer_then_a_retry_is_one_server_on_the_port(self):
        name, token = 'onport-' + self.uid, 'tok-onport-' + self.uid
        port = self.make_port('p-' + self.uid)
        with proxy_mod.Proxy(base.compute_endpoint()) as proxy:
            proxy.rule('POST', r'/servers$', 'drop')
            lost = self.boot(name, port, '--client-token', token, env={
                'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1'),
                'IDEMCLIENT_RETRIES': '0'})
        self.assertEqual(75, lost.returncode, lost.stderr)
        again = json.loads(self.assertOK(self.boot(
            name, port, '--client-token', token)).stdout)
        self.assertEqual([again['id']],
                         [s['id'] for s in self.servers_named(name)])
        [bound] = self.assertOnlyTheServersPorts(name, again['id'])
        self.assertEqual(port, bound['id'])

    def test_without_a_token_the_retry_fails_on_the_bound_port(self):
        """What users hit today: the first boot took the port, the retry
        is refused by Nova, and the user cannot tell whether a server
        exists."""
        name = 'plainport-' + self.uid
        port = self.make_port('pp-' + self.uid)
        with proxy_mod.Proxy(base.compute_endpoint()) as proxy:
            proxy.rule('POST', r'/servers$', 'drop')
            lost = self.boot(name, port, env={
                'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')})
        self.assertEqual(1, lost.returncode)
        self.wait_for(lambda: self.servers_named(name, cleanup=False),
                      timeout=60, interval=0.5, what='the first server')
        again = self.boot(name, port)
        self.assertNotEqual(0, again.returncode)
        self.assertIn('in use', again.stderr)
        self.assertEqual(1, len(self.servers_named(name)))


class TestPlainCreateLeaks(OnItsOwnNetwork):
    """Without a token, a retry after a lost answer makes a second server
    and a second port: what the tests above show idemclient does not."""

    def test_a_retried_plain_create_leaves_two_servers_and_two_ports(self):
        name = 'plain-' + self.uid
        with proxy_mod.Proxy(base.compute_endpoint()) as proxy:
            proxy.rule('POST', r'/servers$', 'drop')
            lost = self.osc(*(BOOT + ('--network', self.net, name)), env={
                'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')})
        self.assertEqual(1, lost.returncode)
        self.assertOK(self.osc(*(BOOT + ('--network', self.net, name))))
        servers = self.wait_for(lambda: self.active(name, 2), timeout=60,
                                interval=0.5, what='both servers ACTIVE')
        self.wait_for(lambda: len(self.ports()) == 2, timeout=60,
                      interval=0.5, what='two ports')
        self.assertEqual({s['id'] for s in servers},
                         {p['device_id'] for p in self.ports()})


class TestAMembersServerGoes(base.FunctionalTestCase):
    """A project member (not admin) deletes the server they booted on
    ``private``, and Nova deletes its port: Neutron lets a member delete a
    ``compute:*`` port only with Nova's service token beside theirs
    (``[service_user]`` in the local cloud's Nova). Without it the delete
    leaves the server in ERROR and its port behind."""

    def ports_of(self, server_id):
        sess = base.session_for('admin')
        endpoint = sess.get_endpoint(service_type='network',
                                     interface='public').rstrip('/')
        return sess.get(endpoint + '/v2.0/ports', params={
            'device_id': server_id}).json()['ports']

    def test_the_delete_takes_the_port_with_it(self):
        name = 'member-' + self.uid
        made = json.loads(self.assertOK(self.osc(*(BOOT + (
            '--network', 'private', '--client-token', 'tok-' + name, name,
            '-f', 'json')), user='demo')).stdout)
        self.servers_named(name, user='demo')  # deleted at the end anyway
        self.wait_for(lambda: self.ports_of(made['id']), timeout=60,
                      interval=0.5, what='the server\'s port')
        self.assertOK(self.osc('server', 'delete', '--wait', made['id'],
                               user='demo'))
        self.assertEqual([], self.servers_named(name, user='demo'))
        self.wait_for(lambda: not self.ports_of(made['id']),
                      timeout=PORTS_GONE_SECONDS, interval=0.5,
                      what='the port to go with its server')
