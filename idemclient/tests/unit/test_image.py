"""Glance kinds: ``image create`` (the id a token chooses, the upload that
resumes) and ``server image create`` (markers in Nova's createImage
metadata), and their tasks; over the real SDK with requests-mock and a
real journal file."""

import io
import os
import tempfile
import time
from unittest import mock

import fixtures

from idemclient.clients import errors
from idemclient.clients import image as image_api
from idemclient import contract
from idemclient.core.errors import IdemError
from idemclient.core import token as tokens
from idemclient.kinds import glance_tasks
from idemclient.kinds import image as image_kind
from idemclient.kinds import server_image
from idemclient import tasks
from idemclient.tests.unit import glance as fake
from idemclient.tests.unit import shared

SCOPE, SERVER = shared.SCOPE, fake.SERVER


class ImageTestCase(fake.GlanceTestCase):

    def setUp(self):
        super().setUp()
        self.journal = self.useFixture(shared.TempJournal())
        self.tmp, self.journal_path = self.journal.dir, self.journal.path
        self.scope = self.useFixture(shared.scope_of()).mock
        self.said = []
        self.data = os.path.join(self.tmp, 'disk.raw')
        with open(self.data, 'wb') as f:
            f.write(b'\0' * 4096)

    def app(self, journal_path=None):
        return shared.fake_app(journal_path or self.journal_path,
                               image=self.connection.image,
                               compute=self.connection.compute)

    def create_image(self, token='T', task_tag=None, journal_path=None,
                     **kwargs):
        """``openstack image create`` as OSC calls the SDK, hook installed;
        a fresh proxy each time, as each command gets."""
        self.connect()
        image_kind.install(self.app(journal_path),
                           mock.Mock(id=None, retries=None), token,
                           task_tag, self.said.append)
        args = dict(name='img1', allow_duplicates=True,
                    container_format='bare', disk_format='raw',
                    filename=self.data)
        args.update(kwargs)
        return self.connection.image.create_image(**args)

    def entries(self, journal_path=None):
        return self.journal.entries(path=journal_path)


class TestImageCreate(ImageTestCase):

    def test_the_token_chooses_the_id_and_the_data_follows(self):
        image = self.create_image()
        post, = self.glance.posts()
        sent = post.json()
        self.assertEqual(image.id, sent['id'])
        self.assertEqual('img1', sent['name'])
        self.assertEqual([(image.id, b'\0' * 4096)], self.glance.uploads)
        self.assertEqual('active', self.glance.images[image.id]['status'])
        entry, = self.entries()
        self.assertEqual('done', entry.state)
        self.assertEqual([image.id], entry.resource_ids)
        # what any host needs to find it: the marker, the task id, the
        # parameters
        self.assertEqual(entry.marker, sent['idemclient_marker'])
        self.assertEqual(tokens.id_tag('image.create', entry.uuid),
                         sent['idemclient_task'])
        self.assertTrue(sent['idemclient_params'])

    def test_one_id_per_token_and_scope(self):
        first = self.create_image(token='A').id
        other_host = os.path.join(self.tmp, 'other.sqlite')
        self.assertEqual(first, self.create_image(
            token='A', journal_path=os.path.join(self.tmp, 'x.sqlite'),
            name='img1').id)
        self.assertNotEqual(first, self.create_image(
            token='B', journal_path=other_host).id)
        self.scope.return_value = shared.OTHER_PROJECT
        self.assertNotEqual(first, self.create_image(
            token='A', journal_path=other_host).id)
        self.assertEqual(3, len(self.glance.posts()))

    def test_a_retry_sends_nothing(self):
        first = self.create_image()
        before = len(self.glance.mock.request_history)
        again = self.create_image()
        self.assertEqual(first.id, again.id)
        self.assertEqual(1, len(self.glance.posts()))
        self.assertEqual(1, len(self.glance.puts()))
        self.assertIn('was already created', self.said[-1])
        sent = [(r.method, r.path) for r in
                self.glance.mock.request_history[before:] if r.path != '/']
        self.assertEqual([('GET', '/v2/images/' + first.id)], sent)

    def test_another_host_finds_it_and_sends_nothing(self):
        first = self.create_image()
        again = self.create_image(
            journal_path=os.path.join(self.tmp, 'other.sqlite'))
        self.assertEqual(first.id, again.id)
        self.assertEqual(1, len(self.glance.posts()))
        self.assertEqual(1, len(self.glance.puts()))

    def test_an_image_left_queued_is_finished_not_duplicated(self):
        with mock.patch.object(image_kind.ImageKind, 'finish',
                               lambda self, image: image):
            queued = self.create_image()  # the run "died" before uploading
        self.assertEqual('queued', self.glance.images[queued.id]['status'])
        again = self.create_image(
            journal_path=os.path.join(self.tmp, 'other.sqlite'))
        self.assertEqual(queued.id, again.id)
        self.assertEqual(1, len(self.glance.posts()))
        self.assertEqual([(queued.id, b'\0' * 4096)], self.glance.uploads)
        self.assertIn('did not finish', self.said[-1])

    def test_a_race_lost_at_the_post_takes_the_winners_image(self):
        first = self.create_image(
            journal_path=os.path.join(self.tmp, 'winner.sqlite'))
        with mock.patch.object(image_kind.ImageKind, 'find',
                               side_effect=[None, image_kind.found_image(
                                   image_kind.ImageKind,
                                   self.glance.images[first.id])]):
            again = self.create_image()
        self.assertEqual(first.id, again.id)
        self.assertEqual([201, 409], self.glance.answered)
        self.assertEqual(1, len(self.glance.uploads))
        self.assertEqual('done', self.entries()[0].state)

    def test_an_upload_already_done_by_another_run_is_not_repeated(self):
        image = self.glance.add('img-x', status='saving')
        kind = image_kind.ImageKind(
            image_api.ImageClient(self.connection.image), None,
            {'filename': self.data}, mock.Mock(task_id='t'), self.said.append)

        def show(image_id):
            self.glance.images['img-x']['status'] = 'active'
            return dict(image)
        with mock.patch.object(kind.client, 'get', side_effect=show), \
                mock.patch.object(time, 'sleep'):
            kind.finish(kind.sdk(dict(image, status='saving')))
        self.assertEqual([], self.glance.uploads)
        self.assertIn("Waiting for another run's upload", self.said[0])

    def test_an_upload_refused_because_another_run_finished_is_fine(self):
        image = self.glance.add('img-y')  # queued: this run uploads

        def another_run_won(*args, **kwargs):
            self.glance.images['img-y']['status'] = 'active'
            raise errors.ApiError('Image status transition from saving to '
                                  'saving is not allowed', 409)
        kind = image_kind.ImageKind(
            image_api.ImageClient(self.connection.image), None,
            {'filename': self.data}, mock.Mock(task_id='t'), self.said.append)
        with mock.patch.object(kind.client, 'upload',
                               side_effect=another_run_won), \
                mock.patch.object(time, 'sleep'):
            kind.finish(kind.sdk(image))
        self.assertEqual('active', self.glance.images['img-y']['status'])

    def test_a_connection_glance_closed_is_asked_again(self):
        kind = image_kind.ImageKind(None, None, {}, mock.Mock(task_id='t'),
                                    print)
        kind.client = mock.Mock()
        kind.client.get.side_effect = [errors.ApiError('closed'),
                                       {'status': 'active'}]
        self.assertEqual('active', kind._status('img'))

    def test_a_deleted_image_keeps_its_token(self):
        first = self.create_image()
        self.glance.delete(first.id)
        error = self.assertRaises(IdemError, self.create_image)
        self.assertIn('no longer exists', str(error))
        error = self.assertRaises(
            IdemError, self.create_image,
            journal_path=os.path.join(self.tmp, 'other.sqlite'))
        self.assertIn('has since been deleted', str(error))
        self.assertIn('Use a new token', str(error))
        self.assertEqual(['failed'], [e.state for e in self.entries(
            os.path.join(self.tmp, 'other.sqlite'))])

    def test_other_parameters_are_refused_from_any_host(self):
        self.create_image()
        posts = len(self.glance.posts())
        for journal in (None, os.path.join(self.tmp, 'other.sqlite')):
            error = self.assertRaises(IdemError,
                                      self.create_image, journal_path=journal,
                                      min_disk=5)
            self.assertIn('other parameters', str(error))
        self.assertEqual(posts, len(self.glance.posts()))

    def test_other_data_is_refused(self):
        self.create_image()
        with open(self.data, 'ab') as f:
            f.write(b'more')
        error = self.assertRaises(IdemError, self.create_image,
                                  journal_path=os.path.join(self.tmp, 'o'))
        self.assertIn('other parameters', str(error))
        self.assertEqual(1, len(self.glance.posts()))

    def test_data_from_another_path_of_the_same_size_is_the_same(self):
        first = self.create_image()
        copy = os.path.join(tempfile.mkdtemp(dir=self.tmp), 'other.raw')
        with open(copy, 'wb') as f:
            f.write(b'\0' * 4096)
        self.assertEqual(first.id, self.create_image(
            filename=copy, journal_path=os.path.join(self.tmp, 'o')).id)

    def test_a_failed_upload_leaves_the_image_queued_and_says_so(self):
        self.glance.upload_status = 500
        error = self.assertRaises(IdemError, self.create_image)
        self.assertIn('stays queued', str(error))
        image_id, = self.glance.images
        self.assertEqual('queued', self.glance.images[image_id]['status'])
        self.assertEqual('done', self.entries()[0].state)
        self.glance.upload_status = 204
        self.assertEqual(image_id, self.create_image().id)
        self.assertEqual('active', self.glance.images[image_id]['status'])
        self.assertEqual(1, len(self.glance.posts()))

    def test_stdin_data_is_uploaded(self):
        image = self.create_image(filename=None, data=io.BytesIO(b'abc'))
        self.assertEqual([(image.id, b'abc')], self.glance.uploads)

    def test_an_id_of_the_users_own_is_refused_before_anything(self):
        error = self.assertRaises(
            IdemError, image_kind.install, self.app(),
            mock.Mock(id='1234'), 'T', None, print)
        self.assertIn('--id', str(error))
        self.assertEqual([], self.glance.posts())


class TestServerImage(ImageTestCase):

    def snapshot(self, token='T', task_tag=None, journal_path=None,
                 metadata=None):
        self.connect()
        server_image.install(self.app(journal_path),
                             mock.Mock(retries=None), token,
                             task_tag, self.said.append)
        return self.connection.compute.create_server_image(
            SERVER, 'snap1', metadata)

    def test_the_markers_ride_in_the_metadata(self):
        image = self.snapshot(metadata={'k': 'v'}, task_tag='nightly')
        post, = self.nova.posts()
        metadata = post.json()['createImage']['metadata']
        entry, = self.entries()
        self.assertEqual('v', metadata['k'])
        self.assertEqual(entry.marker, metadata['idemclient_marker'])
        self.assertEqual(tokens.derive_tag(SCOPE, 'nightly', prefix='task'),
                         metadata['idemclient_tag'])
        self.assertEqual(tokens.id_tag('server_image.create', entry.uuid),
                         metadata['idemclient_task'])
        self.assertEqual([image.id], entry.resource_ids)
        self.assertEqual('req-nova-1', entry.response_request_id)
        self.assertEqual(SERVER, entry.target)

    def test_every_key_is_set_so_none_is_inherited(self):
        self.snapshot()
        metadata = self.nova.posts()[0].json()['createImage']['metadata']
        self.assertEqual('', metadata['idemclient_tag'])

    def test_another_host_finds_it_by_property(self):
        first = self.snapshot()
        again = self.snapshot(
            journal_path=os.path.join(self.tmp, 'other.sqlite'))
        self.assertEqual(first.id, again.id)
        self.assertEqual(1, len(self.nova.posts()))

    def test_an_inherited_marker_is_not_taken_for_ours(self):
        first = self.snapshot()
        inherited = dict(self.glance.images[first.id])
        inherited['idemclient_task'] = tokens.id_tag('image.create',
                                                     '0' * 32)
        self.glance.images.clear()
        self.glance.add('base', **{k: v for k, v in inherited.items()
                                   if k.startswith('idemclient_')})
        second = self.snapshot(
            journal_path=os.path.join(self.tmp, 'other.sqlite'))
        self.assertNotEqual('base', second.id)
        self.assertEqual(2, len(self.nova.posts()))

    def test_the_snapshot_with_data_wins_over_an_orphan(self):
        first = self.snapshot()
        body = self.glance.images.pop(first.id)
        marks = {k: v for k, v in body.items() if k.startswith('idemclient_')}
        # Nova's 500 to a concurrent createImage leaves an older, empty one
        self.glance.add('orphan', created_at='2026-11-01T00:00:00Z', **marks)
        self.glance.add('taken', status='active',
                        created_at='2026-11-02T00:00:00Z', **marks)
        again = self.snapshot(
            journal_path=os.path.join(self.tmp, 'other.sqlite'))
        self.assertEqual('taken', again.id)
        # Queued, data-less and past the grace period: Nova never took it.
        self.assertEqual({'orphan'}, self.glance.deleted)
        self.assertIn('Deleted image orphan: a snapshot image Nova made for '
                      'this task but never took', ' '.join(self.said))

    def test_several_queued_images_wait_for_the_one_nova_took(self):
        request = server_image.ServerImageKind.request_for(
            SCOPE, {'server': SERVER, 'name': 's'}, 'T', None)
        own = tokens.id_tag(server_image.OPERATION, request.task_id)

        def image(image_id, status):
            return {'id': image_id, 'status': status, 'created_at': 'x',
                    'idemclient_task': own}
        listings = [[image('orphan', 'queued'), image('taken', 'queued')],
                    [image('orphan', 'queued'), image('taken', 'queued')],
                    [image('orphan', 'queued'), image('taken', 'saving')]]
        images = mock.Mock()
        images.with_property.side_effect = lambda key, value: \
            listings.pop(0)
        kind = server_image.ServerImageKind(None, images, None, {}, request,
                                            self.said.append)
        slept = []
        found = kind._one_with_data(request, server_image.marked_images(
            images, server_image.OPERATION, request.marker,
            request.task_id), sleep=slept.append)
        self.assertEqual('taken', found[0]['id'])
        self.assertEqual([1.0, 1.0], slept)
        self.assertIn('Waiting for one of the 2 snapshot images', self.said[0])

    def test_an_orphan_is_kept_until_the_grace_period_ends(self):
        first = self.snapshot()
        marks = {k: v for k, v in self.glance.images[first.id].items()
                 if k.startswith('idemclient_')}
        young = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
        self.glance.add('young', created_at=young, **marks)
        self.snapshot()  # the journal's: the chosen one, then the others
        self.assertIn('young', self.glance.images)
        self.useFixture(fixtures.EnvironmentVariable(
            'IDEMCLIENT_ORPHAN_GRACE', '0'))
        again = self.snapshot()
        self.assertEqual(first.id, again.id)
        self.assertEqual({'young'}, self.glance.deleted)

    def test_resume_deletes_what_nova_made_but_never_took(self):
        first = self.snapshot(
            journal_path=os.path.join(self.tmp, 'other.sqlite'))
        marks = {k: v for k, v in self.glance.images.pop(first.id).items()
                 if k.startswith('idemclient_')}
        with mock.patch.object(server_image.ServerImageKind, 'send',
                               side_effect=KeyboardInterrupt):
            self.assertRaises(KeyboardInterrupt, self.snapshot)
        entry, = self.entries()
        self.glance.add('orphan', created_at='2026-11-01T00:00:00Z', **marks)
        self.glance.add('taken', status='active', size=1,
                        created_at='2026-11-02T00:00:00Z', **marks)
        observed = glance_tasks.TASKS.reconcile(
            contract.Clients(images=lambda: image_api.ImageClient(
                self.connection.image)), [entry], 3.0,
            self.said.append)
        self.assertEqual(['taken'], observed[entry.uuid].resource_ids)
        self.assertEqual({'orphan'}, self.glance.deleted)
        self.assertIn('Deleted image orphan', self.said[-1])

    def test_a_snapshot_in_progress_elsewhere_is_taken(self):
        first = self.snapshot(
            journal_path=os.path.join(self.tmp, 'winner.sqlite'))
        self.nova.busy = True
        found = image_kind.found_image(server_image.ServerImageKind,
                                       self.glance.images[first.id])
        with mock.patch.object(server_image.ServerImageKind, 'find',
                               side_effect=[None, found]):
            again = self.snapshot()
        self.assertEqual(first.id, again.id)
        self.assertEqual([202, 409], self.nova.answered)
        self.assertEqual('done', self.entries()[0].state)

    def test_another_server_is_refused(self):
        self.snapshot()
        self.assertRaises(IdemError, self.snapshot,
                          metadata={'k': 'other'})
        self.assertEqual(1, len(self.nova.posts()))


class TestImageTasks(ImageTestCase):

    def images(self):
        return image_api.ImageClient(self.connection.image)

    def test_states_from_the_image(self):
        for status, state in (('queued', 'accepted'), ('saving', 'accepted'),
                              ('active', 'succeeded'), ('killed', 'failed'),
                              ('deactivated', 'succeeded')):
            observation = glance_tasks.judge('image.create',
                                             {'id': 'i', 'status': status})
            self.assertEqual(state, observation.state, status)
        queued = glance_tasks.judge('image.create',
                                    {'id': 'i', 'status': 'queued'})
        self.assertIn('run the same command again', queued.error)

    def test_a_failed_snapshot_whose_image_nova_deleted(self):
        self.snapshot_of_a_failure()
        entry, = self.entries()
        compute = mock.Mock()
        compute.instance_actions.return_value = [{
            'action': 'createImage', 'request_id': 'req-nova-1'}]
        compute.instance_action.return_value = {
            'action': 'createImage', 'request_id': 'req-nova-1',
            'events': [{'event': 'compute_snapshot_instance',
                        'result': 'Error', 'finish_time': 'x',
                        'details': 'disk gone'}]}
        observation = tasks.observe(entry, contract.Clients(
            compute=lambda: compute, images=self.images))
        self.assertEqual('failed', observation.state)
        self.assertIn('disk gone', observation.error)
        compute.instance_actions.assert_called_once_with(SERVER)

    def snapshot_of_a_failure(self):
        server_image.install(self.app(), mock.Mock(retries=None), 'T', None,
                             self.said.append)
        image = self.connection.compute.create_server_image(SERVER, 's', {})
        self.glance.delete(image.id)

    def test_by_tag_and_by_id_from_another_host(self):
        image = self.create_image(task_tag='nightly')
        entry, = self.entries()
        clients = contract.Clients(images=self.images)
        found = glance_tasks.TASKS.by_tag(clients, SCOPE, 'nightly')
        self.assertEqual([('image.create', 'succeeded', entry.uuid)],
                         [(op, obs.state, task_id)
                          for op, obs, task_id in found])
        # a copy that inherited its properties is the same task, once
        self.glance.add('copy', created_at='2026-12-01T00:00:00Z',
                        **{k: v for k, v in self.glance.images[
                            image.id].items()
                           if k.startswith('idemclient_')})
        self.assertEqual(1, len(glance_tasks.TASKS.by_tag(clients, SCOPE,
                                                          'nightly')))
        by_id, = glance_tasks.TASKS.by_id(clients, SCOPE, entry.uuid)
        self.assertEqual(('image.create', [image.id]),
                         (by_id[0], by_id[1].resource_ids))

    def test_a_pending_image_create_is_found_by_its_id(self):
        with mock.patch.object(image_kind.ImageKind, 'send',
                               side_effect=KeyboardInterrupt):
            self.assertRaises(KeyboardInterrupt, self.create_image)
        entry, = self.entries()
        self.assertIsNone(tasks.observe(entry, contract.Clients(
            images=self.images)))
        request = mock.Mock(task_id=entry.uuid)
        image_id = image_kind.ImageKind(None, None, {}, request,
                                        print).image_id
        self.glance.add(image_id)
        observation = tasks.observe(entry, contract.Clients(
            images=self.images))
        self.assertEqual(('accepted', [image_id]),
                         (observation.state, observation.resource_ids))
