"""``openstack task ...`` and ``server volume swap`` against the real cloud:
what became of requests whose client died, checked through the API."""

import json
import os
import signal
import time
import uuid

from idemclient import tasks
from idemclient.tests.functional import base

# The volume Nova's Cinder fixture says Cinder is migrating: the only kind
# Nova 34 lets a caller swap out ("this API should only be called by
# Cinder"). One volume for the whole cloud: the TestSwap tests run in one
# worker (group_regex in .stestr.conf), one after the other.
SWAP_OLD = 'a07f71dc-8151-4e7d-a0cc-cd24a3f11113'


class TaskTestCase(base.FunctionalTestCase):

    def json_of(self, *args, **kwargs):
        result = self.assertOK(self.osc(*(args + ('-f', 'json')), **kwargs))
        return json.loads(result.stdout)

    def killed_create(self, name, tag, point):
        result = self.osc(*(base.CREATE + ('--task-tag', tag, name)),
                          env={'IDEMCLIENT_FAILPOINT': point})
        self.assertEqual(-signal.SIGKILL, result.returncode, result.stderr)

    def server_with_volume(self, name, volume_id, user='admin'):
        server = self.create_server(name, '--wait', user=user)
        self.assertIsInstance(server, dict, getattr(server, 'stderr', ''))
        attached = self.compute(
            'POST', '/servers/%s/os-volume_attachments' % server['id'], user,
            json={'volumeAttachment': {'volumeId': volume_id}})
        self.assertEqual(200, attached.status_code, attached.text)
        self.wait_for(lambda: volume_id in self.attached(server['id'], user),
                      what='the attachment')
        # Cleanups run last first: delete, then wait until the volume is
        # free for the next test.
        self.addCleanup(self.wait_for, lambda: self.compute(
            'GET', '/servers/%s' % server['id'], user).status_code == 404,
            what='the server to be deleted')
        self.servers_named(name, user)
        return server['id']

    def attached(self, server_id, user='admin'):
        body = self.compute('GET', '/servers/%s/os-volume_attachments'
                            % server_id, user).json()
        return [a['volumeId'] for a in body['volumeAttachments']]


class TestLostCreates(TaskTestCase):

    def test_killed_after_sending_is_found_by_resume(self):
        name, tag = 'lost-' + self.uid, 'tag-' + self.uid
        self.killed_create(name, tag, 'after-response')
        [server] = self.servers_named(name)
        [entry] = self.journal_entries()
        self.assertEqual('pending', entry['state'])
        rows = self.json_of('task', 'resume', '--all')
        self.assertEqual([(entry['uuid'], server['id'])],
                         [(r['ID'], r['Resource']) for r in rows])
        self.assertIn(rows[0]['State'], ('accepted', 'succeeded'))
        # recorded once no other host's server can still beat it

        def recorded():
            if self.journal_entries()[0]['state'] == 'done':
                return True
            self.json_of('task', 'resume', '--all')
        self.wait_for(recorded, timeout=30, interval=1,
                      what='resume to record it')
        [entry] = self.journal_entries()
        self.assertEqual(('done', [server['id']]),
                         (entry['state'], json.loads(entry['resource_ids'])))
        self.wait_for(lambda: self.json_of('task', 'show', '--tag', tag)[
            'state'] == 'succeeded', what='the build to end')
        shown = self.json_of('task', 'show', '--tag', tag)
        self.assertEqual((entry['uuid'], 'server.create', server['id']),
                         (shown['uuid'], shown['task'], shown['resource']))
        self.assertIn('compute__do_build_and_run_instance',
                      [e['event'] for e in shown['events']])

    def test_never_sent_resolves_to_not_found(self):
        name, tag = 'unsent-' + self.uid, 'tag-' + self.uid
        self.killed_create(name, tag, 'after-journal-commit')
        # Until the attempt is older than the time one may still be in
        # flight, the task says pending; then what the cloud has decides.
        [entry] = self.journal_entries()
        self.wait_for(lambda: time.time() - entry['updated_at'] >=
                      tasks.SETTLE_SECONDS, timeout=30,
                      what='the attempt to be past its time in flight')
        [row] = self.json_of('task', 'resume', '--tag', tag)
        self.assertEqual('not-found', row['State'])
        self.assertEqual([], self.servers_named(name))
        self.assertEqual('not-found',
                         self.json_of('task', 'show', '--tag', tag)['state'])
        [entry] = self.journal_entries()
        self.assertEqual('pending', entry['state'])
        # Safe to retry: the same command now creates it, once.
        server = self.create_server(name, '--task-tag', tag)
        self.assertEqual([server['id']],
                         [s['id'] for s in self.servers_named(name)])

    def test_failed_build_shows_novas_fault(self):
        flavor = self.unschedulable_flavor()
        name, tag = 'fail-' + self.uid, 'tag-' + self.uid
        self.assertOK(self.osc('server', 'create', '--flavor', flavor,
                               '--image', 'cirros', '--network', 'private',
                               '--task-tag', tag, name))
        [server] = self.servers_named(name)
        shown = self.wait_for(lambda: (lambda s: s if s['state'] != 'accepted'
                                       else None)(
            self.json_of('task', 'show', '--tag', tag)), what='the build')
        fault = self.compute('GET', '/servers/%s' % server['id']).json()[
            'server']['fault']['message']
        self.assertEqual(('failed', fault), (shown['state'], shown['error']))

    def test_another_host_and_another_project(self):
        name, tag = 'seen-' + self.uid, 'tag-' + self.uid
        server = self.create_server(name, '--task-tag', tag)
        [entry] = self.journal_entries()
        elsewhere = os.path.join(self.tmp, 'host2.sqlite')
        shown = self.json_of('task', 'show', '--tag', tag, journal=elsewhere)
        self.assertEqual((entry['uuid'], server['id']),
                         (shown['uuid'], shown['resource']))
        self.assertFalse(os.path.exists(elsewhere) and
                         self.journal_entries(elsewhere))
        other = self.osc('task', 'show', '--tag', tag, user='demo')
        self.assertEqual(1, other.returncode, other.stdout)
        self.assertIn("No task with tag '%s' is recorded on this host" % tag,
                      other.stderr)


class TestFromAnotherHost(TaskTestCase):
    """What one host sent, asked about from another with no journal entry:
    by tag and by the task id the sending host printed."""

    def elsewhere(self, *args):
        return self.json_of(*args, journal=os.path.join(self.tmp,
                                                        'host2.sqlite'))

    def test_a_keypair_by_tag_and_by_id(self):
        name, tag = 'kp-' + self.uid, 'kp-' + self.uid
        self.assertOK(self.osc('keypair', 'create', '--task-tag', tag, name))
        self.addCleanup(self.compute, 'DELETE', '/os-keypairs/' + name)
        [entry] = self.journal_entries()
        for shown in (self.elsewhere('task', 'show', '--tag', tag),
                      self.elsewhere('task', 'show', entry['uuid'])):
            self.assertEqual(
                (entry['uuid'], 'keypair.create', 'succeeded', name),
                (shown['uuid'], shown['task'], shown['state'],
                 shown['resource']))

    def test_token_and_tag_give_the_same_id_everywhere(self):
        name, tag = 'both-' + self.uid, 'both-' + self.uid
        server = self.create_server(name, '--client-token', 'tok-' + self.uid,
                                    '--task-tag', tag)
        [entry] = self.journal_entries()
        mine = self.json_of('task', 'show', '--tag', tag)
        by_tag = self.elsewhere('task', 'show', '--tag', tag)
        by_id = self.elsewhere('task', 'show', entry['uuid'])
        self.assertEqual([(entry['uuid'], server['id'])] * 3,
                         [(s['uuid'], s['resource'])
                          for s in (mine, by_tag, by_id)])

    def test_an_id_is_not_found_from_another_project(self):
        server = self.create_server('id-' + self.uid, '--client-token',
                                    'tok-' + self.uid)
        [entry] = self.journal_entries()
        self.assertEqual(server['id'], self.elsewhere(
            'task', 'show', entry['uuid'])['resource'])
        other = self.osc('task', 'show', entry['uuid'], user='demo')
        self.assertEqual(1, other.returncode, other.stdout)
        self.assertIn('No task with %s exists' % entry['uuid'],
                      other.stderr)


class TestSwap(TaskTestCase):

    def test_swap_reports_start_and_end_from_any_host(self):
        server_id = self.server_with_volume('swap-' + self.uid, SWAP_OLD)
        tag, new = 'swap-' + self.uid, str(uuid.uuid4())
        args = ('server', 'volume', 'swap', server_id, SWAP_OLD, new,
                '--task-tag', tag)
        swapped = self.json_of(*(args + ('--wait',)))
        self.assertEqual('succeeded', swapped['state'])
        self.assertIn(new, self.attached(server_id))
        self.assertNotIn(SWAP_OLD, self.attached(server_id))
        events = self.json_of('task', 'show', '--tag', tag,
                              journal=os.path.join(self.tmp, 'h2'))['events']
        [event] = [e for e in events if e['event'] == 'compute_swap_volume']
        self.assertEqual('Success', event['result'])
        self.assertTrue(event['start_time'] and event['finish_time'])
        by_id = self.json_of('task', 'show', swapped['uuid'],
                             journal=os.path.join(self.tmp, 'h3'))
        self.assertEqual(('server.swap_volume', 'succeeded', server_id),
                         (by_id['task'], by_id['state'], by_id['resource']))
        actions = self.compute('GET', '/servers/%s/os-instance-actions'
                               % server_id).json()['instanceActions']
        again = self.osc(*args)
        self.assertOK(again)
        self.assertIn("Task tag '%s': that request is already accepted "
                      '(volume swap on server %s); nothing was sent.'
                      % (tag, server_id), again.stderr)
        self.assertEqual(len(actions), len(self.compute(
            'GET', '/servers/%s/os-instance-actions' % server_id).json()[
            'instanceActions']))

    def test_member_is_told_swaps_are_for_the_service_role(self):
        server_id = self.server_with_volume('swapm-' + self.uid, SWAP_OLD,
                                            user='demo')
        result = self.osc('server', 'volume', 'swap', server_id, SWAP_OLD,
                          str(uuid.uuid4()), '--task-tag', 't-' + self.uid,
                          user='demo')
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertIn('Nova allows volume swaps only to the service role',
                      result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        self.assertEqual([SWAP_OLD], self.attached(server_id, 'demo'))
        tags = self.compute('GET', '/servers/%s' % server_id, 'demo').json()[
            'server']['tags']
        self.assertEqual([], tags)
