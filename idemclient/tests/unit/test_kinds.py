"""Server and keypair Kinds: what they put on the cloud and recognise."""

from unittest import mock

import testtools

from idemclient.core import converge
from idemclient.core.errors import IdemError
from idemclient.kinds import keypair as keypair_kind
from idemclient.kinds import server as server_kind
from idemclient.tests.unit import shared

SCOPE = shared.SCOPE
KWARGS = {'name': 'web1', 'image_id': 'img', 'flavor_id': '1',
          'min_count': 1, 'max_count': 1, 'networks': 'none',
          'tags': ['mine'], 'metadata': {'role': 'web'}}


CREATED = '2026-01-01T00:00:01Z'
LONG_AFTER = converge.epoch(CREATED) + 3600


class FakeClient:
    def __init__(self, servers=(), keypair=None):
        self.servers = list(servers)
        self.keypair = keypair
        self.created = []
        self.deleted = []

    def servers_by_tag(self, tag):
        return [s for s in self.servers if tag in s['tags']]

    def tag_listing(self, tag):
        return converge.Listing(self.servers_by_tag(tag), LONG_AFTER)

    def delete_server(self, server_id):
        self.deleted.append(server_id)

    def get_keypair(self, name, user_id=None):
        return self.keypair

    def guarded_create(self, create, request_id, client_token):
        self.created.append((request_id, client_token))
        response = mock.Mock(headers={'x-openstack-request-id': 'req-c'})
        return create(), response


class TestServerKind(testtools.TestCase):

    def kind(self, client, create=None, kwargs=KWARGS, task_tag=None,
             settle_seconds=3.0):
        request = server_kind.request_for(SCOPE, kwargs, 'T', task_tag)
        create = create or mock.Mock(return_value=mock.Mock(id='s1'))
        return server_kind.ServerKind(client, create, kwargs, request,
                                      settle_seconds), request, create

    def test_send_adds_marker_attempt_tag_and_fingerprint(self):
        client = FakeClient()
        kind, request, create = self.kind(client, task_tag='g')
        result, ids, cloud_request = kind.send(mock.Mock(
            request_id='req-0e1d-22', uuid='e1'))
        sent = create.call_args.kwargs
        self.assertEqual(['mine', request.marker,
                          'task-%s-g' % SCOPE.key[:8],
                          'idem-tc-' + request.task_id.replace('-', ''),
                          'idem-at-0e1d22'], sent['tags'])
        self.assertTrue(request.marker.startswith('idem-'))
        self.assertEqual('web', sent['metadata']['role'])
        self.assertEqual(request.fingerprint.encode(),
                         sent['metadata']['idemclient:params'])
        # which server is the request's is decided later, by settling
        self.assertEqual((None, 'req-c'), (ids, cloud_request))
        self.assertEqual('s1', kind.settlement.own_id)
        self.assertEqual([('req-0e1d-22', 'T')], client.created)
        # the caller's kwargs are left alone (the fingerprint is over them)
        self.assertEqual(['mine'], KWARGS['tags'])

    def test_find_returns_the_server_and_its_recorded_fingerprint(self):
        kind, request, _ = self.kind(FakeClient())
        kind.client.servers = [{
            'id': 's9', 'name': 'web1', 'created': CREATED, 'tags':
            [request.marker], 'metadata': {
                'idemclient:params': request.fingerprint.encode()}}]
        found = kind.find(request)
        self.assertEqual(['s9'], found.resource_ids)
        self.assertEqual(request.fingerprint, found.fingerprint)
        self.assertEqual('s9', found.result.id)

    def test_find_orders_multi_create_servers(self):
        kind, request, _ = self.kind(FakeClient())
        kind.client.servers = [
            {'id': 'b', 'name': 'web1-2', 'created': '2026-01-01T00:00:01Z',
             'tags': [request.marker], 'metadata': {}},
            {'id': 'a', 'name': 'web1-1', 'created': '2026-01-01T00:00:01Z',
             'tags': [request.marker], 'metadata': {}}]
        found = kind.find(request)
        self.assertEqual(['a', 'b'], found.resource_ids)
        self.assertIsNone(found.fingerprint)

    def test_nothing_found(self):
        kind, request, _ = self.kind(FakeClient())
        self.assertIsNone(kind.find(request))

    def test_multi_create_records_every_server(self):
        kwargs = dict(KWARGS, min_count=2, max_count=2)
        client = FakeClient()
        kind, request, create = self.kind(client, kwargs=kwargs,
                                          settle_seconds=0)

        def created(**sent):
            client.servers = [
                {'id': 'x2', 'name': 'web1-2', 'created': CREATED,
                 'tags': sent['tags']},
                {'id': 'x1', 'name': 'web1-1', 'created': CREATED,
                 'tags': sent['tags']},
                {'id': 'y1', 'name': 'web1-1', 'created': CREATED,
                 'tags': [request.marker, 'idem-at-other']}]
            return mock.Mock(id='x1')
        kind._create = created
        _, ids, _ = kind.send(mock.Mock(request_id='r'))
        self.assertEqual(['x1', 'x2'], ids)  # this attempt's, not y1
        self.assertIsNone(kind.settlement)

    def test_find_deletes_own_losers_only_and_keeps_the_oldest(self):
        client = FakeClient()
        kind, request, _ = self.kind(client)
        kind.bind(mock.Mock(state='pending', request_id='req-mine'))
        tags = [request.marker]
        client.servers = [
            {'id': 'own', 'created': '2026-01-01T00:00:02Z',
             'tags': tags + ['idem-at-mine']},
            {'id': 'other', 'created': '2026-01-01T00:59:50Z',
             'tags': tags + ['idem-at-x']},
            {'id': 'first', 'created': CREATED,
             'tags': tags + ['idem-at-y']},
            {'id': 'stale', 'created': '2026-01-01T00:10:00Z',
             'tags': tags + ['idem-at-z']}]
        found = kind.find(request)
        self.assertEqual(['first'], found.resource_ids)
        # own loser now; another's loser only once long past D + grace
        self.assertEqual(['own', 'stale'], client.deleted)

    def test_peek_is_final_only_for_one_attempt_past_the_settle_time(self):
        client = FakeClient()
        kind, request, _ = self.kind(client)
        one = {'id': 'a', 'created': CREATED,
               'tags': [request.marker, 'idem-at-1']}
        client.servers = [one]
        found = kind.peek(request)
        self.assertEqual((['a'], True), (found.resource_ids, found.final))
        two = dict(one, id='b', tags=[request.marker, 'idem-at-2'])
        client.servers = [one, two]
        found = kind.peek(request)
        self.assertEqual((['a'], False), (found.resource_ids, found.final))
        self.assertEqual([], client.deleted)
        # listed 1 s after its creation on Nova's clock: another may come
        client.tag_listing = lambda tag: converge.Listing(
            [one], converge.epoch(CREATED) + 1)
        self.assertFalse(kind.peek(request).final)

    def test_settle_off_deletes_nothing(self):
        client = FakeClient()
        kind, request, _ = self.kind(client, settle_seconds=0)
        kind.bind(mock.Mock(state='pending', request_id='req-mine'))
        client.servers = [
            {'id': 'own', 'created': '2026-01-01T00:00:02Z',
             'tags': [request.marker, 'idem-at-mine']},
            {'id': 'first', 'created': CREATED,
             'tags': [request.marker]}]
        self.assertEqual(['first'], kind.find(request).resource_ids)
        self.assertEqual([], client.deleted)


PUBLIC = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOoQjxGvBWnYoUD3GqxDnCBkHo'
          'qt7TrP2r7YnoM8JC3m')


class TestKeypairKind(testtools.TestCase):

    def kind(self, keypair=None, public_key='', generated=True):
        kwargs = {'name': 'k1', 'public_key': public_key}
        request = keypair_kind.request_for(SCOPE, kwargs, 'T', None,
                                           generated)
        return keypair_kind.KeypairKind(FakeClient(keypair=keypair),
                                        mock.Mock(), kwargs, request,
                                        generated), request

    def test_new_key_is_generated_with_the_marker_as_comment(self):
        kind, request = self.kind()
        secret = kind.bind(None)
        self.assertIn('OPENSSH PRIVATE KEY', secret)
        public = kind._kwargs['public_key']
        self.assertEqual(public.split()[2:], [
            request.marker, 'idem-tk-' + request.task_id.replace('-', '')])
        self.assertEqual(keypair_kind.key_material(public),
                         keypair_kind.key_material(
                             keypair_kind.public_of(secret)))

    def test_kept_key_is_reused(self):
        first, _ = self.kind()
        secret = first.bind(None)
        second, _ = self.kind()
        self.assertEqual(secret, second.bind(mock.Mock(secret=secret)))
        self.assertEqual(first._kwargs['public_key'],
                         second._kwargs['public_key'])

    def test_supplied_key_binds_nothing(self):
        kind, _ = self.kind(public_key=PUBLIC, generated=False)
        self.assertIsNone(kind.bind(None))
        # the user's key, with the markers another host reads as comment
        request = kind._request
        self.assertEqual(' '.join([
            PUBLIC, request.marker,
            'idem-tk-' + request.task_id.replace('-', '')]),
            kind._kwargs['public_key'])

    def test_find_matches_on_key_material_only(self):
        kind, _ = self.kind(keypair={'name': 'k1',
                                     'public_key': PUBLIC + ' other'},
                            public_key=PUBLIC + ' mine', generated=False)
        kind.bind(None)
        self.assertEqual(['k1'], kind.find(None).resource_ids)

    def test_name_taken_by_another_key(self):
        kind, _ = self.kind(keypair={'name': 'k1', 'public_key': PUBLIC})
        kind.bind(None)
        exc = self.assertRaises(IdemError, kind.find, None)
        self.assertEqual('Keypair name k1 is already taken by a different '
                         'key. Nothing was sent.', str(exc))

    def test_generated_elsewhere_with_this_token(self):
        kind, request = self.kind()
        kind.client.keypair = {'name': 'k1',
                               'public_key': PUBLIC + ' ' + request.marker}
        kind.bind(None)
        exc = self.assertRaises(IdemError, kind.find, None)
        self.assertEqual("Keypair k1 was created with client token 'T' "
                         "from another host; its private key is only in that "
                         "host's journal. Nothing was sent.", str(exc))

    def test_fingerprint_tells_generated_from_supplied(self):
        _, generated = self.kind()
        _, supplied = self.kind(public_key=PUBLIC, generated=False)
        self.assertEqual(['public_key'], generated.fingerprint.differences(
            supplied.fingerprint))
