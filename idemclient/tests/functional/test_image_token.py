"""``image create --client-token`` and ``server image create
--client-token`` against the local real Glance (and the real Nova that
snapshots into it), every outcome counted through the Image API: a crash
at every step and a lost response, 8 hosts at once, other parameters,
another project, a deleted image, and what ``task show`` says.

Images are told apart by their name, unique per test."""

import json
import os

from idemclient.tests.functional import base
from idemclient.tests.functional import crash_matrix
from idemclient.tests.functional import proxy as proxy_mod

DATA_SIZE = 64 * 1024
HOSTS = 8
OFF = {'IDEMCLIENT_RESERVATIONS': 'off'}
# What the local Nova's fake driver does with a snapshot of a server
# carrying this metadata (cloud/nova_peer.py): 'stick' leaves it queued,
# 'fail' makes it fail.
SNAPSHOT_KEY = 'idemclient-test:snapshot'
# How long the fake driver takes to snapshot such a server.
SNAPSHOT_SECONDS_KEY = 'idemclient-test:snapshot-seconds'


class ImageTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.data = os.path.join(self.tmp, 'disk.raw')
        with open(self.data, 'wb') as f:
            f.write(b'\0' * DATA_SIZE)

    @staticmethod
    def endpoint(user='admin'):
        url = base.session_for(user).get_endpoint(service_type='image',
                                                  interface='public')
        return url.rstrip('/').removesuffix('/v2')

    def image_api(self, method, path, user='admin', **kwargs):
        return base.session_for(user).request(
            self.endpoint(user) + '/v2' + path, method, raise_exc=False,
            **kwargs)

    def images_named(self, name, user='admin'):
        """The images called ``name`` that ``user`` sees; deleted at the
        end."""
        found = self.image_api('GET', '/images', user,
                               params={'name': name}).json()['images']
        for image in found:
            self.addCleanup(self.image_api, 'DELETE',
                            '/images/%s' % image['id'], 'admin')
        return found

    def assertOneImage(self, name, image_id, user='admin', status=None):
        found = self.images_named(name, user)
        self.assertEqual([image_id], [i['id'] for i in found],
                         'duplicate or lost image %r' % name)
        if status:
            self.assertEqual(status, found[0]['status'])
        return found[0]

    def held(self, name):
        return [i['id'] for i in self.images_named(name)]

    def proxy_upstream(self):
        return self.endpoint()

    def endpoint_via(self, proxy):
        return {'OS_IMAGE_ENDPOINT_OVERRIDE': proxy.url('/')}


class TestImageCreate(ImageTestCase, crash_matrix.CrashMatrix,
                      crash_matrix.SetsAsSets):

    collection = 'images'
    unordered_args = (('--tag', 'a', '--tag', 'b', '--tag', 'c'),
                      ('--tag', 'c', '--tag', 'a', '--tag', 'b'))
    reserves = False  # its derived id is its own reservation

    def create_args(self, name, token, *extra):
        return ('image', 'create', '--client-token', token, '--disk-format',
                'raw', '--container-format', 'bare', '--file', self.data) + \
            extra + (name,)

    def make(self, name, token, *extra, journal=None, env=None, fmt='json',
             user='admin'):
        return self.osc(*(self.create_args(name, token, *extra) + (
            '-f', fmt)), journal=journal, env=env, user=user)

    def assertCreatedOnce(self, name, token, image_id):
        image = self.assertOneImage(name, image_id, status='active')
        self.assertEqual(DATA_SIZE, image['size'])

    def test_kill_part_way_through_the_upload(self):
        self.kill_trials('during-upload')

    def test_retries_and_another_host_print_one(self):
        name, token = 'i-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(name, token)).stdout)
        self.assertEqual(('active', DATA_SIZE), (first['status'],
                                                 first['size']))
        again = self.assertOK(self.make(name, token, fmt='value'))
        self.assertIn('no create was sent', again.stderr)
        self.assertIn(first['id'], again.stdout)
        elsewhere = json.loads(self.assertOK(self.make(
            name, token, journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertEqual(('created', 'existed'),
                         (first.pop('idemclient_outcome'),
                          elsewhere.pop('idemclient_outcome')))
        self.assertEqual(first, elsewhere)
        self.assertCreatedOnce(name, token, first['id'])

    def test_eight_hosts_at_once_one_image(self):
        """The proxy holds the eight creates until all are in flight at
        once; Glance admits one id and refuses the other seven."""
        name, token = 'i8-' + self.uid, 'tok-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/images$', 'gather', HOSTS)
            procs = [self.start_osc(*self.create_args(name, token), '-f',
                                    'value', '-c', 'id', '-c', 'status',
                                    env=self.host_env('h%d' % i,
                                                      self.endpoint_via(
                                                          proxy)))
                     for i in range(HOSTS)]
            outputs = self.outputs(procs)
        self.assertEqual(HOSTS, proxy.gathered)
        self.assertEqual([201] + [409] * (HOSTS - 1),
                         sorted(proxy.statuses('POST', r'/images$')))
        self.assertEqual(1, len(set(outputs)), outputs)
        image_id, status = outputs[0].split()
        self.assertEqual('active', status)
        self.assertCreatedOnce(name, token, image_id)

    def test_an_image_left_queued_is_finished(self):
        name, token = 'iq-' + self.uid, 'tok-' + self.uid
        killed = self.make(name, token,
                           env={'IDEMCLIENT_FAILPOINT': 'after-response'})
        self.assertEqual(-9, killed.returncode, killed.stderr)
        queued, = self.images_named(name)
        self.assertEqual('queued', queued['status'])
        again = self.assertOK(self.make(name, token, journal=os.path.join(
            self.tmp, 'h2')))
        self.assertIn('did not finish', again.stderr)
        self.assertEqual(queued['id'], json.loads(again.stdout)['id'])
        self.assertCreatedOnce(name, token, queued['id'])

    def test_other_parameters_are_refused_and_nothing_sent(self):
        name, token = 'im-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(name, token)).stdout)
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/images$', 'count')
            refused = self.make(name, token, '--min-disk', '2',
                                journal=os.path.join(self.tmp, 'h2'),
                                env=self.endpoint_via(proxy))
            posts = proxy.count('POST', r'/images$')
        self.assertEqual(1, refused.returncode)
        self.assertIn('other parameters; different: min_disk',
                      refused.stderr)
        self.assertEqual(0, posts)
        self.assertCreatedOnce(name, token, first['id'])

    def test_another_project_makes_its_own(self):
        name, token = 'ip-' + self.uid, 'tok-' + self.uid
        mine = json.loads(self.assertOK(self.make(
            name, token, user='demo')).stdout)
        self.assertEqual(404, self.image_api(
            'GET', '/images/' + mine['id'], 'demo2').status_code)
        theirs = json.loads(self.assertOK(self.make(
            name, token, user='demo2',
            journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertNotEqual(mine['id'], theirs['id'])
        self.assertOneImage(name, mine['id'], user='demo')
        self.assertOneImage(name, theirs['id'], user='demo2')

    def test_a_deleted_image_keeps_its_token(self):
        name, token = 'id-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(name, token)).stdout)
        self.assertEqual(204, self.image_api(
            'DELETE', '/images/' + first['id']).status_code)
        here = self.make(name, token)
        self.assertEqual(1, here.returncode)
        self.assertIn('which no longer exists', here.stderr)
        elsewhere = self.make(name, token,
                              journal=os.path.join(self.tmp, 'h2'))
        self.assertEqual(1, elsewhere.returncode)
        self.assertIn('has since been deleted', elsewhere.stderr)
        self.assertIn('Use a new token', elsewhere.stderr)
        self.assertEqual([], self.images_named(name))

    def test_task_show_from_another_host(self):
        name, tag = 'it-' + self.uid, 'tag-' + self.uid
        image = json.loads(self.assertOK(self.osc(
            'image', 'create', '--task-tag', tag, '--disk-format', 'raw',
            '--container-format', 'bare', '--file', self.data, name,
            '-f', 'json')).stdout)
        self.addCleanup(self.image_api, 'DELETE', '/images/' + image['id'])
        task = json.loads(self.assertOK(self.osc(
            'task', 'show', '--tag', tag, '-f', 'json',
            journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertEqual(('image.create', 'succeeded', image['id']),
                         (task['task'], task['state'], task['resource']))
        by_id = json.loads(self.assertOK(self.osc(
            'task', 'show', task['uuid'], '-f', 'json',
            journal=os.path.join(self.tmp, 'h3'))).stdout)
        self.assertEqual(image['id'], by_id['resource'])


class TestServerImage(ImageTestCase, crash_matrix.CrashMatrix,
                      crash_matrix.SetsAsSets,
                      crash_matrix.OneCreateAcrossHosts):

    collection = r'servers/[^/]+/action'
    unordered_args = (('--property', 'a=1', '--property', 'b=2'),
                      ('--property', 'b=2', '--property', 'a=1'))

    def setUp(self):
        super().setUp()
        self.server = self.server_with()

    def before_trial(self):
        """The last trial's snapshot finished: Nova refuses a createImage
        (409) while the server's task state is still an upload's."""
        self.wait_for(lambda: self.compute(
            'GET', '/servers/' + self.server).json()['server'][
                'OS-EXT-STS:task_state'] is None,
            timeout=120, what='the previous snapshot to finish')

    def server_with(self, *metadata):
        """A server to snapshot (``key=value`` metadata for the fake
        driver); deleted at the end."""
        properties = sum((('--property', m) for m in metadata), ())
        server = self.create_server('s-' + self.uid, '--wait', *properties)
        self.assertIsInstance(server, dict, getattr(server, 'stderr', ''))
        self.addCleanup(self.compute, 'DELETE', '/servers/' + server['id'])
        return server['id']

    def create_args(self, name, token, *extra, server=None):
        return ('server', 'image', 'create', '--client-token', token,
                '--name', name) + extra + (server or self.server,)

    def make(self, name, token, *extra, journal=None, env=None, fmt='json',
             server=None):
        return self.osc(*(self.create_args(name, token, *extra,
                                           server=server) + ('-f', fmt)),
                        journal=journal, env=env)

    def assertCreatedOnce(self, name, token, image_id):
        image = self.assertOneImage(name, image_id)
        self.assertEqual(self.server, image['instance_uuid'])

    def proxy_upstream(self):
        return base.compute_endpoint()

    def endpoint_via(self, proxy):
        return {'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')}

    def test_retries_and_another_host_make_one(self):
        name, token = 'si-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(name, token)).stdout)
        again = self.assertOK(self.make(name, token, fmt='value'))
        self.assertIn('no create was sent', again.stderr)
        elsewhere = json.loads(self.assertOK(self.make(
            name, token, journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertEqual(first['id'], elsewhere['id'])
        self.assertIn(first['id'], again.stdout)
        self.assertCreatedOnce(name, token, first['id'])

    def test_eight_hosts_at_once_one_snapshot(self):
        """The proxy holds the eight createImage calls until all are in
        flight at once. Nova takes one snapshot and refuses the others
        while it snapshots (the server's task state): with a 409, or
        (Nova 34) with a 500 after making a Glance image that stays
        queued, with no data, for ever. A run answered 500 says the
        outcome is unknown; run again, it prints the one snapshot.
        Everything Glance holds is counted: the snapshot, and one orphan
        per 500, no more; then ``task resume`` on the first host answered
        500 (its entry still pending) deletes the orphans, once past
        their grace period (0 here), and says so.

        The snapshot takes 5 s here, as a real one does: the local fake
        driver's takes milliseconds, and a createImage that reaches Nova
        after the first snapshot ended makes a second one (a gap that
        tokens.rst names and only a reservation closes: these hosts run
        without one, as where Glance refuses them; with one, the same
        race sends one createImage, see ``test_reservations``)."""
        self.server = self.server_with(SNAPSHOT_SECONDS_KEY + '=5')
        name, token = 's8-' + self.uid, 'tok-' + self.uid
        args = self.create_args(name, token) + ('-f', 'value', '-c', 'id')
        action = r'/servers/%s/action$' % self.server
        with proxy_mod.Proxy(base.compute_endpoint()) as proxy:
            proxy.rule('POST', action, 'gather', HOSTS)
            procs = [self.start_osc(*args, env=self.host_env(
                'h%d' % i, dict(self.endpoint_via(proxy), **OFF)))
                for i in range(HOSTS)]
            finished = [proc.communicate(timeout=600) + (proc.returncode,)
                        for proc in procs]
        self.assertEqual(HOSTS, proxy.gathered)
        answers = proxy.statuses('POST', action)
        self.assertEqual(1, answers.count(202), answers)
        self.assertEqual(set(), set(answers) - {202, 409, 500}, answers)
        unknown = [i for i, (_, err, code) in enumerate(finished) if code]
        self.assertEqual(answers.count(500), len(unknown), finished)
        outputs = [out.strip() for out, _, code in finished if not code]
        for i in unknown:
            self.assertIn('The outcome of the create is unknown',
                          finished[i][1])
        for i in unknown[1:]:
            outputs.append(self.assertOK(self.osc(*args, env=self.host_env(
                'h%d' % i, OFF))).stdout.strip())
        snapshot = self.wait_for(lambda: [i for i in self.images_named(
            name) if i['status'] == 'active'], what='the snapshot')
        orphans = [i for i in self.images_named(name)
                   if i['id'] != snapshot[0]['id']]
        self.assertEqual(answers.count(500), len(orphans), orphans)
        self.assertEqual({('queued', None)},
                         {(i['status'], i['size']) for i in orphans} or
                         {('queued', None)})
        if unknown:
            host = self.host_env('h%d' % unknown[0],
                                 dict(OFF, IDEMCLIENT_ORPHAN_GRACE='0'))
            resumed = self.assertOK(self.osc('task', 'resume', '--all',
                                             env=host))
            for orphan in orphans:
                self.assertIn('Deleted image %s' % orphan['id'],
                              resumed.stderr)
            outputs.append(self.assertOK(self.osc(
                *args, env=host)).stdout.strip())
        self.assertEqual(1, len(set(outputs)), (outputs, answers, [
            (i['id'], i['status'], i['size'], i['created_at'])
            for i in self.images_named(name)], orphans))
        self.assertEqual(outputs[:1], [i['id'] for i in snapshot])
        self.assertEqual(snapshot, self.images_named(name))

    def test_other_metadata_is_refused_and_nothing_sent(self):
        name, token = 'sm-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(name, token)).stdout)
        refused = self.make(name, token, '--property', 'k=v',
                            journal=os.path.join(self.tmp, 'h2'))
        self.assertEqual(1, refused.returncode)
        self.assertIn('other parameters', refused.stderr)
        self.assertCreatedOnce(name, token, first['id'])

    def task_of(self, tag, journal=None):
        return json.loads(self.assertOK(self.osc(
            'task', 'show', '--tag', tag, '-f', 'json',
            journal=journal)).stdout)

    def test_tasks_accepted_succeeded_failed(self):
        # Nova 34 deletes a failed snapshot's image and records its event
        # as a success: the task can only say the image vanished.
        cases = (('succeeded', self.server),
                 ('accepted', self.server_with(SNAPSHOT_KEY + '=stick')),
                 ('deleted', self.server_with(SNAPSHOT_KEY + '=fail')))
        for state, server in cases:
            tag = 'st-%s-%s' % (state, self.uid)
            self.assertOK(self.osc('server', 'image', 'create', '--task-tag',
                                   tag, '--name', 'st-%s-%s' % (
                                       state, self.uid), server))
            self.images_named('st-%s-%s' % (state, self.uid))
            seen = []

            def reached(tag=tag, state=state):
                seen.append(self.task_of(tag))
                return seen[-1] if seen[-1]['state'] == state else None
            # Under a loaded run Nova may take long to fail a snapshot.
            try:
                task = self.wait_for(reached, timeout=180, interval=1,
                                     what='a task %s' % state)
            except self.failureException:
                self.fail('No task %s in 180s; the last seen: %s'
                          % (state, seen[-1:]))
            self.assertEqual('server_image.create', task['task'])
            if state == 'deleted':
                self.assertIn('Nova deletes it when the snapshot fails',
                              task['error'])
            else:
                elsewhere = self.task_of(tag, os.path.join(self.tmp, 'h2'))
                self.assertEqual((state, task['resource']),
                                 (elsewhere['state'], elsewhere['resource']))
