"""A Glance (and the part of Nova that makes snapshots) for unit tests:
requests-mock answering as the Image API v2 does, behind a real SDK
connection, so the SDK's own ``create_image`` and ``create_server_image``
build the requests. The functional tests check the same behaviour against
the real services.

What it keeps: images by id, with a deleted image's id still taken (409,
as Glance never reuses one); property filters on the listing; an upload
accepted only while ``queued``.
"""

import json
import re
import uuid

import openstack.connection
import testtools

from idemclient.tests.unit import shared

GLANCE = 'http://glance.example'
NOVA = shared.NOVA
SERVER = '5e7e7000-0000-4000-8000-000000000001'


class FakeGlance:

    def __init__(self, mock):
        self.images = {}   # id -> body
        self.deleted = set()
        self.uploads = []  # (id, bytes)
        self.upload_status = 204
        self.answered = []  # the status of each create
        self.mock = mock
        mock.get(GLANCE + '/', json={'versions': [{
            'id': 'v2.17', 'status': 'CURRENT',
            'links': [{'rel': 'self', 'href': GLANCE + '/v2/'}]}]})
        mock.post(GLANCE + '/v2/images', json=self._create)
        mock.get(re.compile(GLANCE + r'/v2/images/[^/]+$'), json=self._show)
        mock.get(re.compile(GLANCE + r'/v2/images(\?.*)?$'), json=self._list)
        mock.put(re.compile(GLANCE + r'/v2/images/[^/]+/file$'),
                 text=self._upload)
        mock.delete(re.compile(GLANCE + r'/v2/images/[^/]+$'),
                    text=self._delete)

    def add(self, image_id, status='queued', created_at='2026-11-01T00:00:00Z',
            **properties):
        """An image the cloud has, as Glance answers it."""
        self.images[image_id] = dict(
            properties, id=image_id, status=status, created_at=created_at,
            owner='proj', visibility='shared', tags=[],
            self='/v2/images/' + image_id,
            file='/v2/images/%s/file' % image_id, schema='/v2/schemas/image')
        return self.images[image_id]

    def posts(self):
        return [r for r in self.mock.request_history
                if r.method == 'POST' and r.url.startswith(GLANCE)]

    def puts(self):
        return [r for r in self.mock.request_history if r.method == 'PUT']

    def _create(self, request, context):
        body = json.loads(request.body)
        image_id = body.get('id') or str(uuid.uuid4())
        if image_id in self.images or image_id in self.deleted:
            context.status_code = 409
            self.answered.append(409)
            return {'message': 'Image ID %s already exists!' % image_id}
        context.status_code = 201
        self.answered.append(201)
        return self.add(image_id, **{k: v for k, v in body.items()
                                     if k != 'id'})

    def _show(self, request, context):
        image = self.images.get(request.path.rsplit('/', 1)[1])
        if image is None:
            context.status_code = 404
            return {'message': 'Not found'}
        return image

    def _list(self, request, context):
        query = {k: v[0] for k, v in request.qs.items()
                 if k not in ('limit', 'marker', 'sort_key', 'sort_dir')}
        # requests-mock lowers the query's case: compare it that way
        found = [i for i in sorted(self.images.values(),
                                   key=lambda i: i['created_at'])
                 if all(str(i.get(k, '')).lower() == v
                        for k, v in query.items())]
        return {'images': found}

    def _upload(self, request, context):
        image = self.images[request.path.split('/')[-2]]
        if image['status'] != 'queued' or self.upload_status != 204:
            context.status_code = 409 if image['status'] != 'queued' \
                else self.upload_status
            return 'Conflict'
        data = request.body if isinstance(request.body, bytes) else \
            request.body.read()
        self.uploads.append((image['id'], data))
        image.update(status='active', size=len(data))
        context.status_code = 204
        return ''

    def delete(self, image_id):
        self.deleted.add(image_id)
        del self.images[image_id]

    def _delete(self, request, context):
        image_id = request.path.rsplit('/', 1)[1]
        if image_id not in self.images:
            context.status_code = 404
            return 'Not found'
        self.delete(image_id)
        context.status_code = 204
        return ''


class FakeNova:
    """createImage as Nova does it: the image, with the metadata as its
    properties, exists before the 202 (or a 409 while a snapshot of the
    server is still in progress)."""

    def __init__(self, mock, glance):
        self.glance = glance
        self.busy = False
        self.actions = []
        self.answered = []
        mock.get('http://nova.example/',
                 json={'versions': [shared.nova_version('2.100')]})
        for url in (NOVA, NOVA + '/'):
            mock.get(url, json={'version': shared.nova_version('2.100')})
        mock.post(NOVA + '/servers/%s/action' % SERVER, json=self._action)
        mock.get(NOVA + '/servers/%s/os-instance-actions' % SERVER,
                 json=lambda r, c: {'instanceActions': self.actions})
        mock.get(re.compile(NOVA + '/servers/%s/os-instance-actions/.+'
                            % SERVER), json=self._one_action)

    def _action(self, request, context):
        if self.busy:
            context.status_code = 409
            self.answered.append(409)
            return {'conflictingRequest': {'message': "Cannot 'createImage' "
                    'instance while it is in task_state image_snapshot'}}
        action = json.loads(request.body)['createImage']
        image = self.glance.add(str(uuid.uuid4()), name=action['name'],
                                instance_uuid=SERVER,
                                **action.get('metadata') or {})
        context.status_code = 202
        self.answered.append(202)
        context.headers['x-openstack-request-id'] = 'req-nova-1'
        return {'image_id': image['id']}

    def _one_action(self, request, context):
        wanted = request.path.rsplit('/', 1)[1]
        return {'instanceAction': next(
            a for a in self.actions if a['request_id'] == wanted)}

    def posts(self):
        return [r for r in self.glance.mock.request_history
                if r.method == 'POST' and r.url.startswith(NOVA)]


class GlanceTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        glance = self.useFixture(shared.MockedService(GLANCE, 'image'))
        self.glance = FakeGlance(glance.mock)
        self.nova = FakeNova(glance.mock, self.glance)
        self.session = glance.session
        self.connect()

    def connect(self):
        """A new SDK connection, as each command has its own."""
        self.connection = openstack.connection.Connection(
            session=self.session, image_endpoint_override=GLANCE,
            compute_endpoint_override=NOVA, image_api_version='2')
