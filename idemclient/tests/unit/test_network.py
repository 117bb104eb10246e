"""Neutron kinds: markers in the create request (tags on ports where the
cloud allows, else the description), the lookup that finds them from any
host, refusals that send nothing, and their tasks; over a real
keystoneauth session with requests-mock and a real journal file."""

import json
import time
from unittest import mock
import urllib.parse

from idemclient.clients import network as network_api
from idemclient import contract
from idemclient.core.errors import IdemError
from idemclient.core import journal as jmod
from idemclient.core import token as tokens
from idemclient.kinds import floating_ip as fip_kind
from idemclient.kinds import network as network_kind
from idemclient.kinds import neutron
from idemclient.kinds import neutron_tasks
from idemclient.kinds import port as port_kind
from idemclient.kinds import router as router_kind
from idemclient.kinds import security_group as sg_kind
from idemclient import tasks
from idemclient.tests.unit import neutron as fake
from idemclient.tests.unit import shared

NEUTRON, SCOPE = fake.NEUTRON, shared.SCOPE


class NetworkTestCase(fake.NeutronTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(shared.scope_of())
        self.journal = self.useFixture(shared.TempJournal())

    def install(self, kind_module, token='T', task_tag=None):
        """The proxy's create call with the kind's hook installed."""
        app = shared.fake_app(self.journal.path, network=self.proxy)
        kind_module.install(app, mock.Mock(retries=None), token, task_tag,
                            print)
        return getattr(self.proxy, kind_module.install.__self__.create_call)

    def entries(self):
        return self.journal.entries()

    def request(self, kind, kwargs, token='T', task_tag=None):
        return kind.request_for(SCOPE, kwargs, token, task_tag)


class TestDescriptionMarker(NetworkTestCase):

    def test_the_users_text_stays_first_and_the_marker_is_parsed_back(self):
        self.listing('networks')
        post = self.posted('networks', 'network')
        create = self.install(network_kind, task_tag='nightly')
        create(name='net1', description='web tier')
        sent = post.last_request.json()['network']
        request = self.request(network_kind.NetworkKind, {
            'name': 'net1', 'description': 'web tier'}, task_tag='nightly')
        self.assertTrue(sent['description'].startswith('web tier [idem k='))
        marks = neutron.Marks(sent, 'network.create')
        self.assertTrue(marks.carry(request.marker))
        self.assertTrue(marks.carry(tokens.derive_tag(SCOPE, 'nightly',
                                                      prefix='task')))
        self.assertEqual(request.task_id, marks.task_id)
        self.assertEqual(request.fingerprint.digest, marks.digest)
        self.assertLessEqual(len(sent['description']), 255)
        self.assertEqual('net1', sent['name'])

    def test_the_lookup_lists_the_project_and_matches_here(self):
        request = self.request(network_kind.NetworkKind, {'name': 'net1'})
        mine = {'id': 'mine', 'created_at': '2026-01-02T00:00:00Z',
                'description': neutron.mark_text(request), 'name': 'net1',
                'status': 'ACTIVE'}
        other = self.request(network_kind.NetworkKind, {'name': 'net1'},
                             token='U')
        lookup = self.listing(
            'networks', {'id': 'theirs', 'description': neutron.mark_text(
                other), 'created_at': '2026-01-01T00:00:00Z'}, mine,
            {'id': 'plain', 'description': 'k=' + neutron.short(
                request.marker)})
        post = self.posted('networks', 'network')
        result = self.install(network_kind)(name='net1')
        self.assertEqual(('mine', 'ACTIVE'), (result.id, result.status))
        self.assertFalse(post.called)
        sent = lookup.last_request.qs
        self.assertEqual(['proj'], sent['project_id'])
        # Whole items: the one listing is all a retry reads.
        self.assertNotIn('fields', sent)
        self.assertEqual(['GET /v2.0/networks'], [
            '%s %s' % (r.method, r.path) for r in self.mock.request_history
            if r.url.startswith(NEUTRON)])
        self.assertEqual([('done', json.dumps(['mine']))], [
            (e.state, json.dumps(e.resource_ids)) for e in self.entries()])

    def test_peek_asks_for_the_exact_description_the_create_sends(self):
        """What a lookup before reserving reads: one short answer."""
        kwargs = {'name': 'net1', 'description': 'web tier'}
        request = self.request(network_kind.NetworkKind, kwargs)
        sent = neutron.NeutronKind.marked_kwargs(kwargs, request,
                                                 False)['description']
        lookup = self.listing('networks', {
            'id': 'n1', 'description': sent, 'name': 'net1',
            'status': 'ACTIVE', 'created_at': '2026-01-02T00:00:00Z'})
        kind = network_kind.NetworkKind(network_api.NetworkClient(
            self.proxy), None, kwargs, request, False)
        found = kind.peek(request)
        self.assertEqual((['n1'], request.fingerprint.digest),
                         (found.resource_ids, found.fingerprint.digest))
        self.assertTrue(sent.startswith('web tier [idem k='), sent)
        self.assertEqual({'description': [sent], 'limit': ['1000']},
                         urllib.parse.parse_qs(urllib.parse.urlsplit(
                             lookup.last_request.url).query))

    def test_an_admins_create_for_another_project_is_looked_up_there(self):
        kwargs = {'name': 'net1', 'project_id': 'demo'}
        request = self.request(network_kind.NetworkKind, kwargs)
        made = {'id': 'made', 'created_at': '2026-01-02T00:00:00Z',
                'description': neutron.mark_text(request)}
        lookup = self.listing('networks', made)
        self.mock.get(NEUTRON + '/networks/made', json={'network': dict(
            made, name='net1', project_id='demo', status='ACTIVE')})
        post = self.posted('networks', 'network')
        result = self.install(network_kind)(**kwargs)
        self.assertEqual('made', result.id)
        self.assertFalse(post.called)
        self.assertEqual(['demo'], lookup.last_request.qs['project_id'])
        # The token stays the caller's: its marker is of the caller's scope.
        self.assertEqual(request.marker, tokens.derive_tag(SCOPE, 'T'))

    def test_other_parameters_from_another_host_are_refused(self):
        first = self.request(network_kind.NetworkKind, {'name': 'net1'})
        self.listing('networks', {'id': 'n1', 'description':
                                  neutron.mark_text(first)})
        self.mock.get(NEUTRON + '/networks/n1', json={'network': {
            'id': 'n1', 'description': neutron.mark_text(first)}})
        post = self.posted('networks', 'network')
        create = self.install(network_kind)
        self.assertRaisesRegex(IdemError,
                               'other parameters.*Nothing was sent',
                               create, name='net2')
        self.assertFalse(post.called)

    def test_a_description_without_room_for_the_marker_sends_nothing(self):
        lookup = self.listing('security-groups')
        post = self.posted('security-groups', 'security_group')
        create = self.install(sg_kind)
        self.assertRaisesRegex(IdemError,
                               'at most 1[0-9][0-9] fit. Nothing was sent',
                               create, name='sg', description='x' * 200)
        self.assertFalse(post.called or lookup.called)
        self.assertEqual([], self.entries())

    def test_a_floating_ip_is_marked_without_a_name(self):
        self.listing('floatingips')
        post = self.posted('floatingips', 'floatingip')
        result = self.install(fip_kind)(floating_network_id='pub')
        self.assertEqual('new-id', result.id)
        sent = post.last_request.json()['floatingip']
        self.assertTrue(sent['description'].startswith('[idem k='))
        self.assertEqual('T', post.last_request.headers['X-Client-Token'])


class TestPortTags(NetworkTestCase):

    def test_tags_in_the_post_and_the_extension_asked_once(self):
        lookup = self.listing('ports')
        post = self.posted('ports', 'port')
        create = self.install(port_kind)
        # OSC asks first; the kind's own question is answered from that.
        self.proxy.find_extension(fake.TAGS_EXTENSION, ignore_missing=True)
        create(network_id='n', name='p1', tags=['mine'])
        self.assertEqual([fake.TAGS_EXTENSION], self.proxy.extension_lookups)
        request = self.request(port_kind.PortKind, {
            'network_id': 'n', 'name': 'p1', 'tags': ['mine']})
        sent = post.last_request.json()['port']
        self.assertEqual(['mine'] + request.markers() + [
            'idem-fp-' + request.fingerprint.digest], sent['tags'])
        self.assertNotIn('description', sent)
        self.assertEqual([request.marker], lookup.last_request.qs['tags'])

    def test_a_tagged_port_is_found_by_its_tag(self):
        request = self.request(port_kind.PortKind, {'network_id': 'n'})
        self.listing('ports', {'id': 'other', 'tags': ['x']}, {
            'id': 'p9', 'tags': request.markers() + [
                'idem-fp-' + request.fingerprint.digest]})
        post = self.posted('ports', 'port')
        self.assertEqual('p9', self.install(port_kind)(network_id='n').id)
        self.assertFalse(post.called)


class TestPortWithoutTagsExtension(NetworkTestCase):

    extensions = ()

    def test_the_description_carries_the_marker(self):
        lookup = self.listing('ports')
        post = self.posted('ports', 'port')
        self.install(port_kind)(network_id='n', tags=['mine'])
        sent = post.last_request.json()['port']
        self.assertEqual(['mine'], sent['tags'])  # OSC tags it afterwards
        self.assertTrue(sent['description'].startswith('[idem k='))
        self.assertNotIn('tags', lookup.last_request.qs)


class TestListing(NetworkTestCase):

    def test_every_page_is_read(self):
        limit = network_api.NetworkClient.PAGE_LIMIT
        first = [{'id': 'a%04d' % i} for i in range(limit)]
        self.mock.get(NEUTRON + '/routers', [
            {'json': {'routers': first, 'routers_links': [
                {'rel': 'next', 'href': NEUTRON + '/routers?marker=x'}]}},
            {'json': {'routers': [{'id': 'last'}]}}])
        found = network_api.NetworkClient(self.proxy).listed('routers')
        self.assertEqual(limit + 1, len(found))
        self.assertEqual(['a%04d' % (limit - 1)],
                         self.mock.last_request.qs['marker'])


class TestNetworkTasks(NetworkTestCase):

    def client(self):
        return network_api.NetworkClient(self.proxy)

    def test_states_from_the_status(self):
        self.assertEqual('failed', neutron_tasks.judge(
            'router.create', {'id': 'r', 'status': 'ERROR'}).state)
        for status in ('ACTIVE', 'DOWN', 'BUILD', None):
            self.assertEqual('succeeded', neutron_tasks.judge(
                'port.create', {'id': 'p', 'status': status}).state)

    def test_by_tag_and_by_id_from_another_host(self):
        request = self.request(sg_kind.SecurityGroupKind, {'name': 'sg'},
                               token='T', task_tag='nightly')
        item = {'id': 'sg1', 'description': 'sg ' + neutron.mark_text(
            request)}
        for collection in neutron_tasks.COLLECTIONS.values():
            self.listing(collection, *([item] if collection ==
                                       'security-groups' else []))
        self.mock.get(NEUTRON + '/security-groups/sg1',
                      json={'security_group': item})
        clients = contract.Clients(network=self.client)
        [(op, observation, task_id)] = neutron_tasks.TASKS.by_tag(
            clients, SCOPE, 'nightly')
        self.assertEqual(('security_group.create', 'succeeded', ['sg1'],
                          request.task_id),
                         (op, observation.state, observation.resource_ids,
                          task_id))
        [(op, observation, task_id)] = neutron_tasks.TASKS.by_id(
            clients, SCOPE, request.task_id)
        self.assertEqual(('security_group.create', ['sg1']),
                         (op, observation.resource_ids))
        self.assertEqual([], neutron_tasks.TASKS.by_id(
            clients, SCOPE, '00000000-0000-4000-8000-000000000000'))

    def test_resume_lists_each_kind_once(self):
        with jmod.Journal.open(self.journal.path) as journal:
            entries, items = [], []
            for n in range(5):
                request = self.request(network_kind.NetworkKind,
                                       {'name': 'n%d' % n}, token='T%d' % n)
                entry = journal.begin_attempt(
                    scope=SCOPE, operation=request.operation,
                    idem_key=request.idem_key, marker=request.marker,
                    fingerprint=request.fingerprint.encode(),
                    task_tag=None, target='n%d' % n)
                entries.append(entry)
                if n % 2 == 0:  # three were made, two never arrived
                    items.append({'id': 'net%d' % n, 'status': 'ACTIVE',
                                  'description': neutron.mark_text(request)})
            lookup = self.listing('networks', *items)
            views = tasks.resume(journal, contract.Clients(
                network=self.client), entries, now=time.time() + 60)
        self.assertEqual(1, lookup.call_count)
        self.assertEqual(['succeeded', 'not-found'] * 2 + ['succeeded'],
                         [v['state'] for v in views])
        self.assertEqual(['net0', None, 'net2', None, 'net4'],
                         [v['resource'] for v in views])


class TestRunOnce(NetworkTestCase):

    def test_a_refused_create_is_sent_once_and_recorded_failed(self):
        self.listing('routers')
        self.mock.post(NEUTRON + '/routers', status_code=409, json={
            'NeutronError': {'message': 'Quota exceeded for resources: '
                             "['router']."}})
        create = self.install(router_kind)
        self.assertRaisesRegex(IdemError, 'Quota exceeded',
                               create, name='r1')
        self.assertEqual(1, len([r for r in self.mock.request_history
                                 if r.method == 'POST']))
        self.assertEqual(['failed'], [e.state for e in self.entries()])
