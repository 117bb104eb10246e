"""Volumes: the marker in the create request, the metadata lookup and its
microversion, and their tasks; over a real keystoneauth session with
requests-mock and a real journal file."""

import json
import os
import time
from unittest import mock

import fixtures
import testtools

from idemclient.clients import block_storage as volume_api
from idemclient import contract
from idemclient.core.errors import IdemError
from idemclient.core import idempotent
from idemclient.kinds import backup as backup_kind
from idemclient.kinds import cinder_tasks
from idemclient.kinds import snapshot as snapshot_kind
from idemclient.kinds import volume as volume_kind
from idemclient import tasks
from idemclient.tests.unit import cinder
from idemclient.tests.unit import shared

CINDER, SCOPE = cinder.CINDER, shared.SCOPE
KWARGS = {'size': 1, 'name': 'data1', 'metadata': {'team': 'db'}}
V1 = '11111111-1111-4111-8111-111111111111'


class VolumeTestCase(cinder.CinderTestCase):

    def setUp(self):
        super().setUp()
        self.client = volume_api.BlockStorageClient(self.adapter)
        self.temp_journal = self.useFixture(shared.TempJournal())
        self.journal_path = self.temp_journal.path

    def request(self, token='T', task_tag=None, kwargs=KWARGS):
        return volume_kind.VolumeKind.request_for(SCOPE, kwargs, token,
                                                  task_tag)

    def installed(self, kind_module, create_call):
        """A block storage proxy of this cloud with the kind's hook
        installed; (the proxy, its original create call)."""
        volume = mock.Mock()
        volume.get_endpoint_data = self.adapter.get_endpoint_data
        original = getattr(volume, create_call)
        app = shared.fake_app(self.journal_path, volume=volume)
        kind_module.install(app, mock.Mock(retries=None), 'T', None, print)
        return volume, original

    def listed(self, *volumes):
        return self.mock.get(CINDER + '/volumes/detail',
                             json={'volumes': list(volumes)})


class TestKind(VolumeTestCase):

    def test_create_carries_the_markers_beside_the_users_metadata(self):
        request = self.request(task_tag='g')
        create = mock.Mock(return_value=mock.Mock(id=V1))
        kind = volume_kind.VolumeKind(mock.Mock(
            guarded_create=lambda c, r, t: (c(), None)), create, KWARGS,
            request)
        _, ids, _ = kind.send(mock.Mock(request_id='req-1'))
        metadata = create.call_args.kwargs['metadata']
        self.assertEqual(('db', request.marker, request.fingerprint.encode(),
                          'idem-tv-' + request.task_id.replace('-', ''),
                          'task-%s-g' % SCOPE.key[:8]),
                         (metadata['team'], metadata['idemclient:marker'],
                          metadata['idemclient:params'],
                          metadata['idemclient:task'],
                          metadata['idemclient:tag']))
        self.assertEqual([V1], ids)
        self.assertEqual({'team': 'db'}, KWARGS['metadata'])  # untouched

    def test_lookup_filters_on_metadata_at_the_clouds_version(self):
        request = self.request()
        lookup = self.listed({'id': V1, 'status': 'creating', 'metadata': {
            'idemclient:marker': request.marker,
            'idemclient:params': request.fingerprint.encode()}})
        found = volume_kind.VolumeKind(self.client, None, KWARGS,
                                       request).find(request)
        self.assertEqual(([V1], request.fingerprint),
                         (found.resource_ids, found.fingerprint))
        sent = lookup.last_request
        self.assertEqual({'idemclient:marker': request.marker},
                         json.loads(sent.qs['metadata'][0]))
        self.assertEqual('volume 3.71', sent.headers['OpenStack-API-Version'])

    def test_a_cloud_that_refuses_the_filter_is_read_and_matched_here(self):
        request = self.request()
        refused = {'badRequest': {'code': 400, 'message': 'Invalid filters '
                                  'metadata are found in query options.'}}
        mine = {'id': V1, 'created_at': '2026-01-02T00:00:00Z',
                'metadata': {'idemclient:marker': request.marker}}
        pages = self.mock.get(CINDER + '/volumes/detail', [
            {'status_code': 400, 'json': refused},
            {'json': {'volumes': [{'id': 'x', 'metadata': {}}],
                      'volumes_links': [{'rel': 'next', 'href':
                                         CINDER + '/volumes/detail?p=2'}]}},
            {'json': {'volumes': [mine]}},
            {'json': {'volumes': [mine]}}])
        self.client.PAGE_LIMIT = 1  # one item a page
        kind = volume_kind.VolumeKind(self.client, None, KWARGS, request)
        self.assertEqual([V1], kind.find(request).resource_ids)
        sent = [r.qs for r in pages.request_history]
        self.assertIn('metadata', sent[0])
        self.assertEqual(['created_at:desc'], sent[1]['sort'])
        self.assertNotIn('metadata', sent[1])
        self.assertEqual(3, pages.call_count)  # refused, then two pages
        # The same client asks for the filter no more.
        self.assertEqual([V1], kind.find(request).resource_ids)
        self.assertNotIn('metadata', pages.last_request.qs)

    def test_other_refusals_of_the_listing_are_said(self):
        request = self.request()
        # Were it taken for a refused filter, the second answer would do.
        listing = self.mock.get(CINDER + '/volumes/detail', [
            {'status_code': 400, 'json': {'badRequest': {
                'code': 400, 'message': 'Invalid sort key'}}},
            {'json': {'volumes': []}}])
        kind = volume_kind.VolumeKind(self.client, None, KWARGS, request)
        self.assertRaisesRegex(IdemError, 'Invalid sort key', kind.find,
                               request)
        self.assertEqual(1, listing.call_count)

    def test_an_unfiltered_answer_is_never_adopted(self):
        # A cloud that dropped the filter answers with everybody's volumes.
        request = self.request()
        self.listed({'id': V1, 'metadata': {}},
                    {'id': 'x', 'metadata': {'idemclient:marker': 'other'}})
        self.assertIsNone(volume_kind.VolumeKind(
            self.client, None, KWARGS, request).find(request))


class TestOldCloud(VolumeTestCase):

    cloud_max = '3.30'

    def test_below_3_31_is_refused_and_nothing_is_sent(self):
        volume, original = self.installed(volume_kind, 'create_volume')
        exc = self.assertRaises(IdemError,
                                volume.create_volume, size=1)
        self.assertIn('block storage API 3.31', str(exc))
        self.assertIn('Nothing was sent.', str(exc))
        self.assertFalse(original.called)
        self.assertFalse(os.path.exists(self.journal_path))


class TestTasks(VolumeTestCase):

    def setUp(self):
        super().setUp()
        self.journal = self.temp_journal.open()

    def volumes(self):
        return self.client

    def pending(self, request):
        entry = self.journal.begin_attempt(
            scope=SCOPE, operation=request.operation,
            idem_key=request.idem_key, marker=request.marker,
            fingerprint=request.fingerprint.encode(),
            client_token=request.client_token, task_tag=request.task_tag)
        self.journal._conn.execute(
            'UPDATE request SET updated_at=updated_at-60')
        return self.journal.get(entry.uuid)

    def test_states_follow_the_volume(self):
        for status, state in (('creating', 'accepted'),
                              ('available', 'succeeded'),
                              ('in-use', 'succeeded')):
            observation = cinder_tasks.judge(
                self.client, volume_kind.OPERATION, {'id': V1,
                                                     'status': status})
            self.assertEqual(state, observation.state, status)

    def test_an_error_says_cinders_own_reason(self):
        self.mock.get(CINDER + '/messages', json={'messages': [
            {'user_message': 'old', 'created_at': '2026-01-01T00:00:00'},
            {'user_message': 'create volume:Could not find any available '
             'weighted backend.', 'created_at': '2026-01-02T00:00:00'}]})
        observation = cinder_tasks.judge(self.client, volume_kind.OPERATION, {
            'id': V1, 'status': 'error'})
        self.assertEqual(('failed', 'create volume:Could not find any '
                          'available weighted backend.'),
                         (observation.state, observation.error))
        self.assertEqual([V1], self.mock.last_request.qs['resource_uuid'])

    def test_by_tag_and_by_id_from_another_host(self):
        request = self.request(task_tag='g')
        metadata = volume_kind.VolumeKind.marker_metadata(request)
        self.mock.get(CINDER + '/volumes/detail', json={'volumes': [
            {'id': V1, 'status': 'available', 'metadata': metadata}]})
        compute = mock.Mock(servers_by_any_tag=lambda tags: [],
                            keypairs=lambda: [])
        clients = contract.Clients(compute=lambda: compute,
                                   volumes=self.volumes)
        by_tag = tasks.show_by_tag(self.journal, clients, SCOPE, 'g',
                                   time.time())
        by_id = tasks.show_by_id(self.journal, clients, SCOPE,
                                 request.task_id, time.time())
        for [fields] in (by_tag, by_id):
            self.assertEqual((request.task_id, 'volume.create', 'succeeded',
                              V1), (fields['uuid'], fields['task'],
                                    fields['state'], fields['resource']))

    def test_resume_lists_the_volumes_once_for_all(self):
        requests = [self.request('t%d' % i) for i in range(30)]
        entries = [self.pending(r) for r in requests]
        listed = self.listed(*[
            {'id': 'v%d' % i, 'status': 'available', 'metadata': {
                'idemclient:marker': r.marker}}
            for i, r in enumerate(requests[:10])])
        views = tasks.resume(self.journal, contract.Clients(
            volumes=self.volumes), entries, time.time())
        self.assertEqual(1, listed.call_count)
        self.assertEqual(10, len(self.journal.entries('done')))
        self.assertEqual(['v0'], self.journal.get(entries[0].uuid)
                         .resource_ids)
        self.assertEqual({'succeeded': 10, 'not-found': 20}, {
            s: [v['state'] for v in views].count(s)
            for s in ('succeeded', 'not-found')})


class TestRequest(testtools.TestCase):

    def test_other_parameters_are_another_fingerprint(self):
        request_for = volume_kind.VolumeKind.request_for
        a = request_for(SCOPE, KWARGS, 'T', None)
        b = request_for(SCOPE, dict(KWARGS, size=2), 'T', None)
        self.assertEqual(['size'], a.fingerprint.differences(b.fingerprint))
        self.assertIsInstance(a, idempotent.Request)


class TestSnapshotsAndBackups(VolumeTestCase):

    def test_a_snapshot_is_found_by_its_metadata(self):
        request = snapshot_kind.SnapshotKind.request_for(
            SCOPE, {'volume_id': V1, 'name': 's1'}, 'T', None)
        lookup = self.mock.get(CINDER + '/snapshots/detail', json={
            'snapshots': [{'id': 'snap', 'metadata': {
                'idemclient:marker': request.marker}}]})
        found = snapshot_kind.SnapshotKind(self.client, None, {},
                                           request).find(request)
        self.assertEqual(['snap'], found.resource_ids)
        self.assertEqual({'idemclient:marker': request.marker}, json.loads(
            lookup.last_request.qs['metadata'][0]))

    def test_a_backup_is_found_among_its_volumes_backups(self):
        kwargs = {'volume_id': V1, 'name': 'b1'}
        request = backup_kind.BackupKind.request_for(SCOPE, kwargs, 'T',
                                                     None)
        lookup = self.mock.get(CINDER + '/backups/detail', json={
            'backups': [
                {'id': 'a-other', 'metadata': {}},
                {'id': 'z-mine', 'metadata': {
                    'idemclient:marker': request.marker}}]})
        found = backup_kind.BackupKind(self.client, None, kwargs,
                                       request).find(request)
        self.assertEqual(['z-mine'], found.resource_ids)
        sent = lookup.last_request
        self.assertEqual([V1], sent.qs['volume_id'])
        self.assertNotIn('metadata', sent.qs)  # Cinder cannot filter on it

    def test_a_member_who_may_not_filter_on_the_volume_finds_it_too(self):
        kwargs = {'volume_id': V1, 'name': 'b1'}
        request = backup_kind.BackupKind.request_for(SCOPE, kwargs, 'T',
                                                     None)
        lookup = self.mock.get(CINDER + '/backups/detail', [
            {'status_code': 400, 'json': {'badRequest': {
                'code': 400, 'message': 'Invalid filters volume_id are '
                'found in query options.'}}},
            {'json': {'backups': [{'id': 'z-mine', 'metadata': {
                'idemclient:marker': request.marker}}]}}])
        found = backup_kind.BackupKind(self.client, None, kwargs,
                                       request).find(request)
        self.assertEqual(['z-mine'], found.resource_ids)
        self.assertEqual([[V1], None], [
            r.qs.get('volume_id') for r in lookup.request_history])

    def test_a_backup_creating_for_long_names_the_way_out(self):
        started = time.strftime('%Y-%m-%dT%H:%M:%S.000000',
                                time.gmtime(time.time() - 7200))
        stuck = cinder_tasks.judge(self.client, backup_kind.OPERATION, {
            'id': 'b', 'status': 'creating', 'created_at': started})
        self.assertEqual('accepted', stuck.state)
        self.assertIn('openstack backup reset-state --state error b',
                      stuck.error)
        fresh = cinder_tasks.judge(self.client, backup_kind.OPERATION, {
            'id': 'b', 'status': 'creating', 'created_at': time.strftime(
                '%Y-%m-%dT%H:%M:%S', time.gmtime())})
        self.assertIsNone(fresh.error)

    def test_the_stuck_threshold_is_the_operators_to_set(self):
        started = time.strftime('%Y-%m-%dT%H:%M:%S.000000',
                                time.gmtime(time.time() - 90))
        body = {'id': 'b', 'status': 'creating', 'created_at': started}
        self.useFixture(fixtures.EnvironmentVariable(
            'IDEMCLIENT_BACKUP_STUCK_SECONDS'))
        self.assertIsNone(
            cinder_tasks.judge(self.client, backup_kind.OPERATION, body).error)
        self.useFixture(fixtures.EnvironmentVariable(
            'IDEMCLIENT_BACKUP_STUCK_SECONDS', '60'))
        stuck = cinder_tasks.judge(self.client, backup_kind.OPERATION, body)
        self.assertRegex(stuck.error, 'creating for 9[0-9] seconds')
        self.assertIsNone(  # volumes are never called stuck
            cinder_tasks.judge(self.client, volume_kind.OPERATION, body).error)

    def test_a_bad_stuck_threshold_is_refused(self):
        for bad in ('soon', '-5', 'nan'):
            self.useFixture(fixtures.EnvironmentVariable(
                'IDEMCLIENT_BACKUP_STUCK_SECONDS', bad))
            self.assertRaisesRegex(ValueError, 'must be a number of seconds',
                                   cinder_tasks.stuck_seconds)


class TestBackupsBefore343(VolumeTestCase):

    cloud_max = '3.42'

    def test_refused_and_nothing_is_sent(self):
        volume, original = self.installed(backup_kind, 'create_backup')
        exc = self.assertRaises(IdemError,
                                volume.create_backup, volume_id=V1)
        self.assertIn('block storage API 3.43 or later for backups',
                      str(exc))
        self.assertFalse(original.called)
