"""Task states, lookups and commands over a real keystoneauth session with
requests-mock, and a real journal file."""

import time
from unittest import mock

import fixtures

from osc_lib import exceptions
import testtools

from idemclient.clients import compute as compute_api
from idemclient.clients import errors
from idemclient.commands import task as task_commands
from idemclient import contract
from idemclient.core import converge
from idemclient.core.errors import IdemError
from idemclient.core import idempotent
from idemclient.core import journal as jmod
from idemclient.core import token as tokens
from idemclient.kinds import keypair as keypair_kind
from idemclient.kinds import server_tasks
from idemclient.kinds import volume_swap as swap_volume
from idemclient.observation import Observation
from idemclient import tasks
from idemclient.tests.unit import shared

NOVA, SCOPE = shared.NOVA, shared.SCOPE
ACTIONS = NOVA + '/servers/s1/os-instance-actions'
LONG_AGO = '2026-01-01T00:00:00Z'


class TaskTestCase(testtools.TestCase):

    max_version = '2.100'

    def setUp(self):
        super().setUp()
        nova = self.useFixture(shared.MockedService(NOVA, 'compute'))
        self.mock, self.adapter = nova.mock, nova.adapter
        for url in (NOVA, NOVA + '/'):
            self.mock.get(url, json={
                'version': shared.nova_version(self.max_version)})
        self.compute = compute_api.ComputeClient(self.adapter)
        self.journal = self.useFixture(shared.TempJournal()).open()
        self.keypairs()

    def clients(self):
        return contract.Clients.made(compute=self.compute)

    def keypairs(self, *keypairs):
        self.mock.get(NOVA + '/os-keypairs', json={'keypairs': [
            {'keypair': k} for k in keypairs]})

    def pending(self, tag, operation=server_tasks.CREATE, age=10.0,
                target=None):
        marker = tokens.derive_tag(SCOPE, tag, prefix='task')
        entry = self.journal.begin_attempt(
            scope=SCOPE, operation=operation, idem_key='task:' + tag,
            marker=marker, fingerprint='f', task_tag=tag, target=target)
        self.journal._conn.execute(
            'UPDATE request SET created_at=?, updated_at=? WHERE uuid=?',
            (time.time() - age, time.time() - age, entry.uuid))
        return self.journal.get(entry.uuid)

    def servers(self, *servers):
        return self.mock.get(NOVA + '/servers/detail', json={
            'servers': list(servers)})

    def no_actions(self, server_id='s1'):
        self.mock.get(NOVA + '/servers/%s/os-instance-actions' % server_id,
                      json={'instanceActions': []})


class TestStates(TaskTestCase):

    def state_of(self, server, age=10.0):
        entry = self.pending('g', age=age)
        if server is not None:
            server = dict(server, id='s1', tags=[entry.marker])
            self.servers(server)
        else:
            self.servers()
        self.no_actions()
        fields = tasks.view(entry, tasks.observe(entry, self.clients()),
                            time.time())
        return fields['state'], fields['error'], fields['resource']

    def test_building_server_is_accepted(self):
        self.assertEqual(('accepted', None, 's1'),
                         self.state_of({'status': 'BUILD'}))

    def test_active_server_succeeded(self):
        self.assertEqual(('succeeded', None, 's1'),
                         self.state_of({'status': 'ACTIVE'}))

    def test_error_server_failed_with_the_fault(self):
        self.assertEqual(
            ('failed', 'No valid host was found.', 's1'),
            self.state_of({'status': 'ERROR',
                           'fault': {'message': 'No valid host was found.'}}))

    def test_no_trace_is_not_found_once_settled(self):
        self.assertEqual(('not-found', None, None), self.state_of(None))

    def test_no_trace_of_a_fresh_attempt_is_pending(self):
        self.assertEqual(('pending', None, None),
                         self.state_of(None, age=0.5))

    def test_done_entry_whose_server_is_gone_is_deleted(self):
        entry = self.pending('g')
        self.journal.mark_done(entry.uuid, ['s1'])
        self.mock.get(NOVA + '/servers/s1', status_code=404,
                      json={'itemNotFound': {'message': 'not found'}})
        fields = tasks.view(self.journal.get(entry.uuid), tasks.observe(
            self.journal.get(entry.uuid), self.clients()), time.time())
        self.assertEqual('deleted', fields['state'])

    def test_refused_entry_is_failed_with_the_clouds_reason(self):
        entry = self.pending('g')
        self.journal.mark_failed(entry.uuid, 'Invalid flavor (HTTP 400)')
        entry = self.journal.get(entry.uuid)
        fields = tasks.view(entry, tasks.observe(entry, self.clients()),
                            time.time())
        self.assertEqual(('failed', 'Invalid flavor (HTTP 400)'),
                         (fields['state'], fields['error']))
        self.assertEqual([], self.mock.request_history)


class TestEvents(TaskTestCase):

    def test_create_events_at_the_newest_microversion_we_know(self):
        entry = self.pending('g')
        self.servers({'id': 's1', 'status': 'ACTIVE',
                      'tags': [entry.marker]})
        self.mock.get(ACTIONS, json={'instanceActions': [
            {'action': 'reboot', 'request_id': 'req-r'},
            {'action': 'create', 'request_id': 'req-c'}]})
        self.mock.get(ACTIONS + '/req-c', json={'instanceAction': {
            'action': 'create', 'request_id': 'req-c', 'events': [
                {'event': 'compute__do_build_and_run_instance',
                 'result': 'Success', 'start_time': 't0',
                 'finish_time': 't1', 'details': None}]}})
        fields = tasks.view(entry, tasks.observe(entry, self.clients()),
                            time.time())
        self.assertEqual('req-c', fields['request_id'])
        self.assertEqual([{'event': 'compute__do_build_and_run_instance',
                           'result': 'Success', 'start_time': 't0',
                           'finish_time': 't1', 'details': None}],
                         fields['events'])
        [asked] = [r for r in self.mock.request_history
                   if r.url.endswith('/os-instance-actions/req-c')]
        self.assertEqual('compute 2.84', asked.headers[
            'OpenStack-API-Version'])

    def test_a_servers_ports_are_named(self):
        entry = self.pending('g')
        self.servers({'id': 's1', 'status': 'ACTIVE',
                      'tags': [entry.marker]})
        self.mock.get(ACTIONS, json={'instanceActions': []})
        self.mock.get(NOVA + '/servers/s1/os-interface', json={
            'interfaceAttachments': [{'port_id': 'p2'}, {'port_id': 'p1'}]})
        fields = tasks.view(entry, tasks.observe(entry, self.clients()),
                            time.time())
        self.assertEqual(['p1', 'p2'], fields['ports'])
        self.assertEqual(('resource', 'ports', 'request_id'),
                         tasks.columns(fields)[5:8])

    def test_a_server_nova_no_longer_has_names_no_port(self):
        entry = self.pending('g')
        self.servers({'id': 's1', 'status': 'ACTIVE',
                      'tags': [entry.marker]})
        self.mock.get(ACTIONS, json={'instanceActions': []})
        self.mock.get(NOVA + '/servers/s1/os-interface', status_code=404,
                      json={'itemNotFound': {'message': 'gone'}})
        fields = tasks.view(entry, tasks.observe(entry, self.clients()),
                            time.time())
        self.assertEqual([], fields['ports'])


class TestEventsOnAnOlderCloud(TaskTestCase):

    max_version = '2.60'

    def test_events_are_asked_at_2_51(self):
        self.mock.get(ACTIONS, json={'instanceActions': []})
        self.compute.instance_actions('s1')
        self.assertEqual('compute 2.51', self.mock.last_request.headers[
            'OpenStack-API-Version'])


class TestSwapStates(TaskTestCase):

    def observe(self, events, message=None):
        self.mock.get(NOVA + '/servers/s1', json={'server': {
            'id': 's1', 'status': 'ACTIVE', 'tags': []}})
        self.mock.get(ACTIONS, json={'instanceActions': [
            {'action': 'swap_volume', 'request_id': 'req-s'}]})
        self.mock.get(ACTIONS + '/req-s', json={'instanceAction': {
            'action': 'swap_volume', 'request_id': 'req-s',
            'message': message, 'events': events}})
        return swap_volume.observe_swap(self.compute, 's1', 'req-s')

    def test_started_swap_is_accepted(self):
        self.assertEqual('accepted', self.observe([
            {'event': 'compute_swap_volume', 'start_time': 't0',
             'finish_time': None, 'result': None}]).state)

    def test_ended_swap_succeeded(self):
        self.assertEqual('succeeded', self.observe([
            {'event': 'compute_swap_volume', 'start_time': 't0',
             'finish_time': 't1', 'result': 'Success'}]).state)

    def test_swap_error_is_failed(self):
        observation = self.observe([
            {'event': 'compute_swap_volume', 'start_time': 't0',
             'finish_time': 't1', 'result': 'Error'}], 'Error')
        self.assertEqual('failed', observation.state)
        self.assertEqual('Action swap_volume failed: compute_swap_volume',
                         observation.error)


class TestResume(TaskTestCase):

    def test_a_thousand_pending_creates_need_few_requests(self):
        entries = [self.pending('g%04d' % i) for i in range(1000)]
        found = {e.marker: e for e in entries[::2]}

        def detail(request, context):
            wanted = request.qs['tags-any'][0].split(',')
            return {'servers': [
                {'id': 'id-' + m, 'status': 'ACTIVE', 'tags': [m],
                 'created': LONG_AGO} for m in wanted if m in found]}
        self.mock.get(NOVA + '/servers/detail', json=detail)
        views = tasks.resume(self.journal, self.clients(), entries,
                             time.time())
        self.assertLessEqual(len(self.mock.request_history), 25)
        self.assertEqual(1000, len(views))
        by_state = {}
        for entry in entries:
            by_state.setdefault(self.journal.get(entry.uuid).state,
                                []).append(entry)
        self.assertEqual(500, len(by_state['done']))
        self.assertEqual(500, len(by_state['pending']))
        done = self.journal.get(entries[0].uuid)
        self.assertEqual(['id-' + entries[0].marker], done.resource_ids)
        left = self.journal.get(entries[1].uuid)
        self.assertRegex(left.error, r'^Not found on the cloud at '
                         r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.$')
        self.assertEqual({'succeeded', 'not-found'},
                         {v['state'] for v in views})

    def race(self, created):
        """A pending create of this host that lost to another host's."""
        entry = self.pending('g')
        mine = converge.attempt_tag(entry.request_id)
        self.mock.get(NOVA + '/servers/detail', json={'servers': [
            {'id': 'mine', 'status': 'ACTIVE', 'created': created,
             'tags': [entry.marker, mine]},
            {'id': 'theirs', 'status': 'ACTIVE', 'created': LONG_AGO,
             'tags': [entry.marker, 'idem-at-theirs']}]})
        deleted = self.mock.delete(NOVA + '/servers/mine', status_code=204)
        return entry, deleted

    def test_a_lost_race_deletes_this_hosts_server_records_the_winner(self):
        entry, deleted = self.race('2026-01-01T00:00:01Z')
        said = []
        [fields] = tasks.resume(self.journal, self.clients(), [entry],
                                time.time(), say=said.append)
        self.assertTrue(deleted.called)
        self.assertEqual(['theirs'], self.journal.get(entry.uuid)
                         .resource_ids)
        self.assertEqual(('succeeded', 'theirs'),
                         (fields['state'], fields['resource']))
        self.assertIn('Deleting server mine', said[0])

    def test_a_race_still_settling_is_not_recorded_yet(self):
        now = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
        self.mock.get(NOVA + '/servers/detail', json={'servers': [
            {'id': 'a', 'status': 'BUILD', 'created': now,
             'tags': [self.pending('g').marker]}]})
        entry = self.journal.entries('pending')[0]
        [fields] = tasks.resume(self.journal, self.clients(), [entry],
                                time.time())
        self.assertEqual('accepted', fields['state'])
        self.assertEqual('pending', self.journal.get(entry.uuid).state)

    def test_fresh_attempts_are_left_alone(self):
        entry = self.pending('g', age=0.5)
        self.servers()
        [fields] = tasks.resume(self.journal, self.clients(), [entry],
                                time.time())
        self.assertEqual('pending', fields['state'])
        self.assertIsNone(self.journal.get(entry.uuid).error)


class TestFromCloud(TaskTestCase):

    def test_create_found_without_a_journal_entry_has_the_senders_id(self):
        tag = tokens.derive_tag(SCOPE, 'g', prefix='task')
        self.servers({'id': 's1', 'status': 'BUILD', 'tags': [tag]})
        self.no_actions()
        [fields] = tasks.show_by_tag(self.journal, self.clients(), SCOPE, 'g',
                                     time.time())
        self.assertEqual(('server.create', 'accepted', 's1', 'g'),
                         (fields['task'], fields['state'],
                          fields['resource'], fields['tag']))
        self.assertEqual(jmod.entry_id(SCOPE.key, 'server.create', 'task:g'),
                         fields['uuid'])
        [query] = [r.qs for r in self.mock.request_history
                   if r.path.endswith('/servers/detail')]
        self.assertEqual(sorted([tag, swap_volume.swap_marker(SCOPE, 'g')]),
                         sorted(query['tags-any'][0].split(',')))

    def sent_from_another_host(self, operation, token='T', tag='g'):
        """The request another host journaled: its task id and markers."""
        request = idempotent.Request(operation, SCOPE, None,
                                     tokens.derive_tag(SCOPE, token), token,
                                     tag)
        return request.task_id, request.markers()

    def test_token_and_tag_show_the_sending_hosts_id_from_another(self):
        task_id, markers = self.sent_from_another_host(server_tasks.CREATE)
        self.assertEqual(jmod.entry_id(SCOPE.key, server_tasks.CREATE,
                                       'token:T'),
                         task_id)
        self.servers({'id': 's1', 'status': 'ACTIVE', 'tags': markers,
                      'created': LONG_AGO})
        self.no_actions()
        [fields] = tasks.show_by_tag(self.journal, self.clients(), SCOPE, 'g',
                                     time.time())
        self.assertEqual((task_id, 's1'), (fields['uuid'],
                                           fields['resource']))

    def test_a_keypair_is_found_by_tag_from_another_host(self):
        task_id, markers = self.sent_from_another_host(keypair_kind.OPERATION)
        self.servers()
        self.keypairs({'name': 'k1', 'public_key': ' '.join(
            ['ssh-ed25519', 'AAAA', 'me@host'] + markers)},
            {'name': 'k2', 'public_key': 'ssh-ed25519 AAAA other'})
        [fields] = tasks.show_by_tag(self.journal, self.clients(), SCOPE, 'g',
                                     time.time())
        self.assertEqual(('keypair.create', 'succeeded', 'k1', task_id),
                         (fields['task'], fields['state'],
                          fields['resource'], fields['uuid']))

    def test_an_id_from_another_host_is_found_on_the_cloud(self):
        task_id, markers = self.sent_from_another_host(server_tasks.CREATE)
        self.servers({'id': 's1', 'status': 'BUILD', 'tags': markers,
                      'created': LONG_AGO})
        self.no_actions()
        [fields] = tasks.show_by_id(self.journal, self.clients(), SCOPE,
                                    task_id, time.time())
        self.assertEqual((task_id, 'server.create', 'accepted', 's1'),
                         (fields['uuid'], fields['task'], fields['state'],
                          fields['resource']))
        [query] = [r.qs for r in self.mock.request_history
                   if r.path.endswith('/servers/detail')]
        self.assertIn('idem-tc-' + task_id.replace('-', ''),
                      query['tags-any'][0].split(','))

    def test_a_keypair_id_from_another_host_is_found_on_the_cloud(self):
        task_id, markers = self.sent_from_another_host(keypair_kind.OPERATION)
        self.servers()
        self.keypairs({'name': 'k1', 'public_key': ' '.join(
            ['ssh-ed25519', 'AAAA'] + markers)})
        [fields] = tasks.show_by_id(self.journal, self.clients(), SCOPE,
                                    task_id, time.time())
        self.assertEqual(('keypair.create', 'k1'),
                         (fields['task'], fields['resource']))

    def test_an_unknown_id_is_nothing(self):
        self.servers()
        self.assertEqual([], tasks.show_by_id(
            self.journal, self.clients(), SCOPE,
            '0e1d9a5e-5d0c-4a43-9f0e-6f2b8e1d7a31', time.time()))
        self.assertEqual([], tasks.show_by_id(
            self.journal, self.clients(), SCOPE, 'not-an-id', time.time()))


class NoBlockStorage:
    """A client manager of a cloud without block storage (OSC's own error
    when the volume client is asked for) and without an image service in
    its catalog (keystoneauth's)."""

    region_name = 'RegionOne'
    interface = 'public'

    def __init__(self, compute):
        self.compute = compute

    @property
    def volume(self):
        raise RuntimeError("Service 'block-storage' is disabled")

    def get_configuration(self):
        return {}

    @property
    def auth_ref(self):
        from keystoneauth1 import exceptions
        raise exceptions.EndpointNotFound('image')


def command(command_class, compute_adapter, journal_path):
    app = shared.fake_app(journal_path)
    app.client_manager = NoBlockStorage(compute_adapter)
    return command_class(app, None)


class TestOutcome(testtools.TestCase):

    def test_the_outcome_tells_a_program_what_to_do_next(self):
        expected = {('succeeded', ('s1',)): 'created',
                    ('accepted', ('s1',)): 'created',
                    ('deleted', ('s1',)): 'created',
                    ('failed', ('s1',)): 'created',  # made, then in error
                    ('failed', ()): 'refused',
                    ('pending', ()): 'unknown',
                    ('not-found', ()): 'unknown'}
        seen = {(state, ids): tasks.view(
            None, Observation(state, list(ids)), time.time(), tag='g',
            operation='server.create', uuid='u')['outcome']
            for state, ids in expected}
        self.assertEqual(expected, seen)


class TestCommands(TaskTestCase):

    def setUp(self):
        super().setUp()
        self.scope = self.useFixture(shared.scope_of())

    def run_show(self, *argv):
        cmd = command(task_commands.ShowTask, self.adapter,
                      self.journal.path)
        return cmd.take_action(cmd.get_parser('task show').parse_args(argv))

    def test_show_by_id_only_in_the_callers_scope(self):
        entry = self.pending('g')
        self.servers({'id': 's1', 'status': 'ACTIVE',
                      'tags': [entry.marker]})
        self.no_actions()
        columns, values = self.run_show(entry.uuid)
        self.assertEqual('succeeded', values[columns.index('state')])
        self.scope.mock.return_value = shared.OTHER_PROJECT
        exc = self.assertRaises(exceptions.CommandError, self.run_show,
                                entry.uuid)
        self.assertEqual('No task with %s exists in this project.'
                         % entry.uuid, str(exc))

    def test_show_with_several_matches_is_an_error(self):
        create_tag = tokens.derive_tag(SCOPE, 'g', prefix='task')
        swap_tag = swap_volume.swap_marker(SCOPE, 'g')
        self.servers({'id': 's1', 'status': 'ACTIVE', 'tags': [create_tag]},
                     {'id': 's2', 'status': 'ACTIVE', 'tags': [swap_tag]})
        self.no_actions()
        self.mock.get(NOVA + '/servers/s2', json={'server': {'id': 's2'}})
        self.no_actions('s2')
        exc = self.assertRaises(exceptions.CommandError, self.run_show,
                                '--tag', 'g', '--search-resources')
        self.assertTrue(str(exc).startswith(
            "More than one task has tag 'g': "), str(exc))
        self.assertTrue(str(exc).endswith('; show one by its ID.'), str(exc))

    def test_the_clouds_refusal_is_one_command_error(self):
        self.mock.get(NOVA + '/servers/detail', status_code=503,
                      json={'message': 'Nova is down'})
        exc = self.assertRaises(exceptions.CommandError, self.run_show,
                                '--tag', 'g', '--search-resources')
        self.assertEqual('Cannot list servers: Nova is down (HTTP 503)',
                         str(exc))

    def test_a_tag_no_reservation_records_lists_nothing_by_default(self):
        """Where creates reserve, a tag's tasks are in its reservations:
        a tag unknown there is unknown, whatever the project holds."""
        listing = self.servers({'id': 's1', 'status': 'ACTIVE', 'tags': [
            tokens.derive_tag(SCOPE, 'g', prefix='task')]})
        exc = self.assertRaises(exceptions.CommandError, self.run_show,
                                '--tag', 'g')
        self.assertEqual("No task with tag 'g' is recorded on this host or "
                         "in the cloud's reservations. A task sent without "
                         "a reservation is found with --search-resources.",
                         str(exc))
        self.assertFalse(listing.called)

    def test_with_reservations_off_the_resources_are_searched(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'IDEMCLIENT_RESERVATIONS', 'off'))
        self.servers({'id': 's1', 'status': 'ACTIVE', 'tags': [
            tokens.derive_tag(SCOPE, 'g', prefix='task')]})
        self.no_actions()
        columns, values = self.run_show('--tag', 'g')
        self.assertEqual(('succeeded', 's1'), (values[columns.index('state')],
                                               values[columns.index(
                                                   'resource')]))

    def test_show_needs_an_id_or_a_tag(self):
        exc = self.assertRaises(exceptions.CommandError, self.run_show)
        self.assertEqual('Give a task ID or --tag, not both and not neither.',
                         str(exc))
        self.assertEqual([], self.mock.request_history)

    def test_list_is_newest_first_with_a_state_filter(self):
        old, new = self.pending('a', age=100), self.pending('b', age=10)
        self.journal.mark_done(old.uuid, ['s1'])
        cmd = command(task_commands.ListTask, self.adapter,
                      self.journal.path)
        heads, rows = cmd.take_action(cmd.get_parser('x').parse_args([]))
        self.assertEqual([new.uuid, old.uuid], [r[0] for r in rows])
        heads, rows = cmd.take_action(cmd.get_parser('x').parse_args(
            ['--state', 'done', '--long']))
        self.assertEqual([old.uuid], [r[0] for r in rows])
        self.assertIn('Request ID', heads)

    def test_prune_keeps_pending_entries(self):
        pending, done = self.pending('a', age=7200), self.pending('b')
        self.journal.mark_done(done.uuid, ['s1'])
        self.journal._conn.execute(
            'UPDATE request SET updated_at=? WHERE uuid=?',
            (time.time() - 7200, done.uuid))
        cmd = command(task_commands.PruneTask, self.adapter,
                      self.journal.path)
        cmd.take_action(cmd.get_parser('x').parse_args(
            ['--older-than', '1h']))
        self.assertEqual('Removed 1 finished task.\n',
                         cmd.app.stdout.getvalue())
        self.assertIsNotNone(self.journal.get(pending.uuid))
        self.assertIsNone(self.journal.get(done.uuid))

    def test_durations(self):
        self.assertEqual(90, task_commands.parse_duration('90s'))
        self.assertEqual(2 * 7 * 86400, task_commands.parse_duration('2w'))
        for bad in ('', '7', 'd', '1y', '-1d'):
            self.assertRaises(exceptions.CommandError,
                              task_commands.parse_duration, bad)
        exc = self.assertRaises(exceptions.CommandError,
                                task_commands.parse_duration, '1y')
        self.assertEqual("Invalid duration '1y': a number and a unit (s, m, "
                         'h, d or w), e.g. 7d.', str(exc))


class TestSwap(TaskTestCase):

    def kind(self):
        return swap_volume.SwapKind(self.compute, 's1', 'old', 'new')

    def test_not_attached_is_refused_before_anything_is_sent(self):
        self.mock.get(NOVA + '/servers/s1', json={'server': {
            'id': 's1', 'tags': []}})
        self.mock.get(NOVA + '/servers/s1/os-volume_attachments',
                      json={'volumeAttachments': [{'volumeId': 'other'}]})
        request = mock.Mock(marker='swap-x')
        exc = self.assertRaises(IdemError, self.kind().find,
                                request)
        self.assertEqual('Volume old is not attached to server s1. Nothing '
                         'was sent.', str(exc))
        self.assertEqual({'GET'}, {r.method for r in
                                   self.mock.request_history})

    def test_tagged_server_means_already_sent(self):
        self.mock.get(NOVA + '/servers/s1', json={'server': {
            'id': 's1', 'tags': ['swap-x']}})
        found = self.kind().find(mock.Mock(marker='swap-x'))
        self.assertEqual(['s1'], found.resource_ids)

    def test_swap_request_and_refusal_for_non_service_users(self):
        tag = self.mock.put(NOVA + '/servers/s1/tags/swap-x',
                            status_code=201)
        untag = self.mock.delete(NOVA + '/servers/s1/tags/swap-x',
                                 status_code=204)
        entry_id = '0e1d9a5e-5d0c-4a43-9f0e-6f2b8e1d7a31'
        id_tag = 'idem-ts-0e1d9a5e5d0c4a439f0e6f2b8e1d7a31'
        tag_id = self.mock.put(NOVA + '/servers/s1/tags/' + id_tag,
                               status_code=201)
        untag_id = self.mock.delete(NOVA + '/servers/s1/tags/' + id_tag,
                                    status_code=204)
        put = self.mock.put(
            NOVA + '/servers/s1/os-volume_attachments/old', status_code=403,
            json={'forbidden': {'message': 'Policy does not allow it'}})
        entry = mock.Mock(marker='swap-x', request_id='req-mine',
                          uuid=entry_id)
        exc = self.assertRaises(errors.ApiError, self.kind().send, entry)
        self.assertTrue(tag_id.called and untag_id.called)
        self.assertEqual(403, exc.status_code)
        self.assertTrue(str(exc).startswith(
            'Nova allows volume swaps only to the service role'), str(exc))
        self.assertEqual({'volumeAttachment': {'volumeId': 'new'}},
                         put.last_request.json())
        self.assertEqual('req-mine', put.last_request.headers[
            'X-OpenStack-Request-ID'])
        self.assertTrue(tag.called and untag.called)
