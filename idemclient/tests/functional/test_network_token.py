"""``network|port|router|security group|floating ip create
--client-token`` against the local real Neutron, every outcome counted
through the network API: a crash at every step and a lost response per
kind (``NeutronKindTests``), and for networks the rest of the token rules.

Items are told apart by the description each test gives them: the user's
own text, which idemclient keeps first."""

import json
import os
import signal

from idemclient.tests.functional import base
from idemclient.tests.functional import crash_matrix
from idemclient.tests.functional import proxy as proxy_mod
from idemclient.tests.functional import test_cross_host

LEASE = '3'  # seconds: a short lease, so a takeover comes quickly


class NeutronTestCase(base.FunctionalTestCase):

    collection = None  # the kind's REST collection, where a case has one

    def network_api(self, method, path, user='admin', **kwargs):
        sess = base.session_for(user)
        return sess.request(self.endpoint(user) + '/v2.0' + path, method,
                            raise_exc=False, **kwargs)

    @staticmethod
    def endpoint(user='admin'):
        return base.session_for(user).get_endpoint(
            service_type='network', interface='public').rstrip('/')

    def endpoint_via(self, proxy):
        return {'OS_NETWORK_ENDPOINT_OVERRIDE': proxy.url('/')}

    def described(self, collection, text, user='admin'):
        """The project's items whose own description is ``text``; deleted
        at the end."""
        key = collection.replace('-', '_')
        project = base.session_for(user).get_project_id()
        found = self.network_api('GET', '/' + collection, user, params={
            'project_id': project}).json()[key]
        found = [item for item in found if (item.get('description') or '')
                 .split(' [idem ')[0].split('[idem ')[0] == text or
                 item.get('description') == text]
        for item in found:
            self.addCleanup(self.network_api, 'DELETE', '/%s/%s' % (
                collection, item['id']), user)
        return found

    def assertOneItem(self, collection, text, item_id, user='admin'):
        self.assertEqual([item_id], [i['id'] for i in self.described(
            collection, text, user)], 'duplicate or lost %s for %r' % (
                collection, text))

    # What the crash matrix asks of a case (``crash_matrix.CrashMatrix``).
    def assertCreatedOnce(self, text, token, item_id):
        self.assertOneItem(self.collection, text, item_id)

    def held(self, text):
        return [i['id'] for i in self.described(self.collection, text)]

    def proxy_upstream(self):
        return self.endpoint()


class NeutronKindTests(crash_matrix.CrashMatrix, crash_matrix.SetsAsSets,
                       crash_matrix.OneCreateAcrossHosts):
    """Per kind: retries and another host, another project, bad tokens,
    8 processes, and the crash matrix (a mixin, so that it is not
    collected on its own)."""

    def create_args(self, text, token, user='admin'):
        raise NotImplementedError

    def make(self, text, token, journal=None, env=None, fmt='json',
             user='admin'):
        return self.osc(*(self.create_args(text, token, user) + (
            '-f', fmt)), journal=journal, env=env, user=user)

    def test_retries_and_another_host_print_one(self):
        text, token = 'd-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(text, token)).stdout)
        again = self.assertOK(self.make(text, token, fmt='value'))
        self.assertIn('no create was sent', again.stderr)
        self.assertIn(first['id'], again.stdout)
        elsewhere = json.loads(self.assertOK(self.make(
            text, token, journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertEqual(('created', 'existed'),
                         (first.pop('idemclient_outcome'),
                          elsewhere.pop('idemclient_outcome')))
        self.assertEqual(first, elsewhere)
        self.assertOneItem(self.collection, text, first['id'])

    def test_another_project_never_sees_the_marker(self):
        text, token = 'dp-' + self.uid, 'tok-' + self.uid
        mine = json.loads(self.assertOK(self.make(
            text, token, user='demo')).stdout)
        key = self.collection.replace('-', '_')
        listed = self.network_api('GET', '/' + self.collection,
                                  'demo2').json()[key]
        self.assertNotIn(mine['id'], [item['id'] for item in listed])
        theirs = json.loads(self.assertOK(self.make(
            text, token, user='demo2',
            journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertNotEqual(mine['id'], theirs['id'])
        self.assertOneItem(self.collection, text, mine['id'], user='demo')
        self.assertOneItem(self.collection, text, theirs['id'],
                           user='demo2')

    def test_an_admins_create_for_another_project_is_found_there(self):
        """``--project demo`` as admin, then from hosts with an empty
        journal (without and with reservations): one item, in demo."""
        text, token = 'da-' + self.uid, 'tok-' + self.uid
        args = self.create_args(text, token) + ('--project', 'demo',
                                                '-f', 'json')
        made = [json.loads(self.assertOK(self.osc(
            *args, journal=os.path.join(self.tmp, host), env=env)).stdout)
            for host, env in (('h1', None),
                              ('h2', {'IDEMCLIENT_RESERVATIONS': 'off'}),
                              ('h3', None))]
        self.assertEqual(1, len({item['id'] for item in made}), made)
        self.assertOneItem(self.collection, text, made[0]['id'], user='demo')
        self.assertEqual([], self.described(self.collection, text))

    def test_bad_token_sends_nothing(self):
        text = 'db-' + self.uid
        bad = self.make(text, 'x' * 65)
        self.assertEqual(1, bad.returncode)
        self.assertIn('Nothing was sent.', bad.stderr)
        self.assertEqual([], self.described(self.collection, text))
        self.assertEqual([], self.journal_entries())

    def test_eight_processes_one_post(self):
        text, token = 'd8-' + self.uid, 'tok-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            outputs = self.queued(
                8, proxy, 'POST', r'/%s$' % self.collection,
                *self.create_args(text, token) + ('-f', 'value', '-c', 'id'),
                env=self.endpoint_via(proxy))
            posts = proxy.count('POST', r'/%s$' % self.collection)
        self.assertEqual(1, posts)
        self.assertEqual(1, len(set(outputs)), outputs)
        self.assertOneItem(self.collection, text, outputs[0])


class TestNetworkToken(NeutronKindTests, NeutronTestCase):

    collection = 'networks'
    unordered_args = (('--tag', 'a', '--tag', 'b', '--tag', 'c'),
                      ('--tag', 'c', '--tag', 'a', '--tag', 'b'))

    def create_args(self, text, token, user='admin'):
        return ('network', 'create', '--description', text,
                '--client-token', token, 'net-' + self.uid)

    def test_the_description_keeps_the_users_text_first(self):
        text, token = 'web tier ' + self.uid, 'tok-' + self.uid
        made = json.loads(self.assertOK(self.make(text, token)).stdout)
        self.assertRegex(made['description'], r'^%s \[idem k=[0-9a-f]{16} '
                         r't=[0-9a-f]{32} p=[0-9a-f]{32}\]$' % text)
        self.assertOneItem('networks', text, made['id'])

    def test_other_parameters_are_refused_before_sending(self):
        text, token = 'dm-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(text, token)).stdout)
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/networks$', 'count')
            other = self.osc('network', 'create', '--description', text,
                             '--client-token', token, '--disable',
                             'net-' + self.uid,
                             journal=os.path.join(self.tmp, 'h2'),
                             env=self.endpoint_via(proxy))
            self.assertEqual(0, proxy.count('POST', r'/networks$'))
        self.assertEqual(1, other.returncode, other.stdout)
        self.assertIn('with other parameters', other.stderr)
        self.assertIn('on the cloud', other.stderr)
        self.assertOneItem('networks', text, first['id'])

    def test_a_long_description_sends_nothing(self):
        text = 'dl-' + self.uid + 'y' * 200
        too_long = self.make(text, 'tok-' + self.uid)
        self.assertEqual(1, too_long.returncode)
        self.assertIn('at most 159 fit. Nothing was sent.', too_long.stderr)
        self.assertEqual([], self.described('networks', text))
        self.assertEqual([], self.journal_entries())

    def test_task_show_by_tag_and_id_from_another_host(self):
        text, tag = 'dt-' + self.uid, 'nt-' + self.uid
        made = json.loads(self.assertOK(self.osc(
            'network', 'create', '--description', text, '--task-tag', tag,
            'net-' + self.uid, '-f', 'json')).stdout)
        self.addCleanup(self.described, 'networks', text)
        [entry] = self.journal_entries()
        elsewhere = os.path.join(self.tmp, 'h2')
        by_tag = json.loads(self.assertOK(self.osc(
            'task', 'show', '--tag', tag, '-f', 'json',
            journal=elsewhere)).stdout)
        self.assertEqual(
            (entry['uuid'], 'network.create', 'succeeded', made['id']),
            (by_tag['uuid'], by_tag['task'], by_tag['state'],
             by_tag['resource']))
        by_id = json.loads(self.assertOK(self.osc(
            'task', 'show', entry['uuid'], '-f', 'json',
            journal=elsewhere)).stdout)
        self.assertEqual(made['id'], by_id['resource'])
        self.network_api('DELETE', '/networks/' + made['id'])
        gone = json.loads(self.assertOK(self.osc(
            'task', 'show', '--tag', tag, '-f', 'json')).stdout)
        self.assertEqual('deleted', gone['state'])

    def on_host(self, host, text, token, extra=None, start=False):
        """This network's create with a short lease, run as ``host``."""
        env = self.host_env(host, dict({'IDEMCLIENT_RESERVATION_LEASE':
                                        LEASE}, **(extra or {})))
        args = self.create_args(text, token) + ('-f', 'json')
        return self.start_osc(*args, env=env) if start else \
            self.osc(*args, env=env)

    def test_a_holder_killed_after_reserving_is_taken_over(self):
        """Neutron's side of the takeover (``test_reservations`` has
        Cinder's): found by the description's marker, or not at all."""
        text, token = 'dk-' + self.uid, 'tok-' + self.uid
        killed = self.on_host('a', text, token, {
            'IDEMCLIENT_FAILPOINT': 'after-reserve'})
        self.assertEqual(-signal.SIGKILL, killed.returncode, killed.stderr)
        self.assertEqual([], self.described('networks', text))
        other = self.assertOK(self.on_host('b', text, token))
        self.assertIn('made nothing in %ss: taking over' % LEASE,
                      other.stderr)
        made = json.loads(other.stdout)['id']
        again = self.assertOK(self.on_host('a', text, token))
        self.assertEqual(made, json.loads(again.stdout)['id'])
        self.assertOneItem('networks', text, made)

    def test_a_holder_paused_past_its_lease_deletes_its_own(self):
        """Stopped once it holds the reservation, resumed after another
        host took over and created: it creates too (the second POST), then
        deletes its network and prints the taker's."""
        text, token = 'dq-' + self.uid, 'tok-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/networks$', 'count')
            via = self.endpoint_via(proxy)
            holder = self.on_host('a', text, token, dict(
                via, IDEMCLIENT_FAILPOINT='stop-after-lookup'), start=True)
            self.wait_for(lambda: test_cross_host._stopped(holder.pid),
                          timeout=120, what='the holder to stop')
            other = self.assertOK(self.on_host('b', text, token, via))
            self.assertIn('taking over', other.stderr)
            os.kill(holder.pid, signal.SIGCONT)
            out, err = holder.communicate(timeout=300)
            self.assertEqual(0, holder.returncode, err)
            self.assertEqual(2, proxy.count('POST', r'/networks$'))
        taker = json.loads(other.stdout)['id']
        self.assertEqual(taker, json.loads(out)['id'])
        self.assertIn('Deleting network', err)
        self.assertOneItem('networks', text, taker)


class TestPortToken(NeutronKindTests, NeutronTestCase):

    collection = 'ports'
    unordered_args = (('--tag', 'a', '--tag', 'b', '--tag', 'c'),
                      ('--tag', 'c', '--tag', 'a', '--tag', 'b'))

    def setUp(self):
        super().setUp()
        self.networks = {}

    def network_of(self, user):
        """A network of the user's project to put the ports on."""
        if user not in self.networks:
            made = self.network_api('POST', '/networks', user, json={
                'network': {'name': 'pnet-' + self.uid}}).json()['network']
            self.addCleanup(self.network_api, 'DELETE',
                            '/networks/' + made['id'], user)
            self.networks[user] = made['id']
        return self.networks[user]

    def create_args(self, text, token, user='admin'):
        return ('port', 'create', '--network', self.network_of(user),
                '--description', text, '--tag', 'mine', '--client-token',
                token, 'port-' + self.uid)

    def test_the_markers_are_tags_in_the_create(self):
        text, token = 'dg-' + self.uid, 'tok-' + self.uid
        made = json.loads(self.assertOK(self.make(text, token)).stdout)
        [port] = self.described('ports', text)
        self.assertEqual(text, port['description'])
        self.assertIn('mine', port['tags'])
        self.assertTrue([t for t in port['tags'] if t.startswith(
            'idem-fp-')], port['tags'])
        self.assertEqual(made['id'], port['id'])


class TestRouterToken(NeutronKindTests, NeutronTestCase):

    collection = 'routers'
    unordered_args = (('--tag', 'a', '--tag', 'b', '--tag', 'c'),
                      ('--tag', 'c', '--tag', 'a', '--tag', 'b'))

    def create_args(self, text, token, user='admin'):
        return ('router', 'create', '--description', text,
                '--client-token', token, 'router-' + self.uid)


class TestSecurityGroupToken(NeutronKindTests, NeutronTestCase):

    collection = 'security-groups'
    unordered_args = (('--tag', 'a', '--tag', 'b', '--tag', 'c'),
                      ('--tag', 'c', '--tag', 'a', '--tag', 'b'))

    def create_args(self, text, token, user='admin'):
        return ('security', 'group', 'create', '--description', text,
                '--client-token', token, 'sg-' + self.uid)


class TestFloatingIPToken(NeutronKindTests, NeutronTestCase):

    collection = 'floatingips'
    unordered_args = (('--tag', 'a', '--tag', 'b', '--tag', 'c'),
                      ('--tag', 'c', '--tag', 'a', '--tag', 'b'))

    def create_args(self, text, token, user='admin'):
        return ('floating', 'ip', 'create', '--description', text,
                '--client-token', token, 'public')
