"""``openstack image create --client-token``: Glance images.

Glance takes a client-chosen image id and refuses a second create with it
(409): the only idempotency key a service enforces itself. The id is
derived from the task id (scope, operation and token), so every host's
create with one token names the same image and Glance admits one. A deleted
image's id stays taken (Glance never reuses one), so its token stays bound
to it, as an EC2 token stays bound to a terminated instance.

The create and the upload of the data are two requests. The SDK's own
create is stopped after its POST and the upload is sent here, so an image
a crash left ``queued`` is finished by the next run, not duplicated (nor
deleted, as the SDK does after a failed upload).
"""

import logging
import os
import time
import uuid


from idemclient.clients import errors
from idemclient.clients import image as image_api
from idemclient.core import failpoints
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.kinds import base
from idemclient import wrapping

LOG = logging.getLogger(__name__)
OPERATION = registry.BY_COMMAND['image create'].operation
# Properties, set in the create itself (with the image row, server-side
# filterable: GET /v2/images?<key>=<value>).
MARKER_KEY = 'idemclient_marker'
PARAMS_KEY = 'idemclient_params'
TASK_KEY = 'idemclient_task'
TAG_KEY = 'idemclient_tag'
_ID_NAMESPACE = uuid.UUID('5b0c6a52-3f0e-5c55-9f61-1dc3a6e0b1a7')
# What only says where the data comes from; the fingerprint keeps its size.
DATA_ARGS = ('filename', 'data', 'validate_checksum', 'allow_duplicates')
BUSY = ('saving', 'uploading', 'importing')  # someone's data on its way
WAIT_SECONDS = 600  # how long a run waits for another run's upload
POLL_SECONDS = 1


def image_id_for(task_id):
    """The image's id: the same for a token on every host."""
    return str(uuid.uuid5(_ID_NAMESPACE, task_id))


def marker_properties(request, operation):
    """What the image carries so any host finds it, by token, tag or id;
    the tag's key is always set (a snapshot would inherit another's)."""
    return {MARKER_KEY: request.marker,
            PARAMS_KEY: request.fingerprint.encode(),
            TASK_KEY: tokens.id_tag(operation, request.task_id),
            TAG_KEY: tokens.derive_tag(request.scope, request.task_tag,
                                       prefix='task')
            if request.task_tag else ''}


def sdk_image(body):
    """The SDK's image from Glance's body (whose ``self`` link cannot be
    a keyword argument)."""
    from openstack.image.v2 import image
    return image.Image.existing(**{k: v for k, v in body.items()
                                   if k != 'self'})


def found_image(kind, body):
    recorded = body.get(PARAMS_KEY)
    return idempotent.Found(kind.sdk(body), [body['id']],
                            fp.Fingerprint.decode(recorded)
                            if recorded else None)


def fingerprinted(kwargs):
    """The create's parameters as compared between runs: the data by its
    size, not by where it is read from (a path differs between hosts)."""
    params = {k: v for k, v in kwargs.items() if k not in DATA_ARGS}
    if kwargs.get('filename'):
        params['data_size'] = os.path.getsize(kwargs['filename'])
    elif kwargs.get('data') is not None:
        from openstack import utils
        try:
            size = utils.get_file_size(kwargs['data'])
        except Exception:  # a wrapper that cannot seek: as a pipe
            size = None
        params['data_size'] = size or 'a stream'
    return params


class _Posted(BaseException):
    """Stops the SDK's ``create_image`` right after its POST. A
    BaseException, so the SDK's ``except Exception`` (which would wrap it,
    or delete the image) lets it through."""

    def __init__(self, image):
        super().__init__()
        self.image = image


def post_only(proxy, create_image):
    """``create_image`` up to its POST: the SDK builds the request as it
    always does, and the data is left to ``ImageKind.finish``."""
    def create(**kwargs):
        original = proxy._create

        def _create(resource_type, **attrs):
            raise _Posted(original(resource_type, **attrs))
        proxy._create = _create
        try:
            create_image(**kwargs)
        except _Posted as posted:
            return posted.image
        finally:
            del proxy._create
        raise RuntimeError('The SDK created no image.')
    return create


class ImageKind(base.WrappedCreate):
    operation = OPERATION
    noun = 'image'
    create_call = 'create_image'
    reserves = False  # its id is derived from the token: its own
    unordered = ('tags',)
    sdk = staticmethod(sdk_image)

    def __init__(self, client, create, kwargs, request, say):
        super().__init__(client, create, kwargs, request)
        self.image_id = image_id_for(request.task_id)
        self.created = None  # the image this run's POST made
        self._say = say

    def fetch(self, resource_ids):
        body = self.client.get(resource_ids[0])
        return self.sdk(body) if body else None

    def find(self, request):
        body = self.client.get(self.image_id)
        return found_image(self, body) if body else None

    def marked(self, kwargs):
        return dict(kwargs, id=self.image_id,
                    **marker_properties(self._request, self.operation))

    def send(self, entry):
        try:
            item, resource_ids, request_id = super().send(entry)
        except errors.ApiError as exc:
            if exc.status_code == 409 and \
                    self.client.get(self.image_id) is None:
                raise errors.ApiError(
                    'Image %s, made for %s, has since been deleted; Glance '
                    'never reuses an image id, so the token stays bound to '
                    'it. Use a new token to create another image'
                    % (self.image_id, self._request.label), 409,
                    exc.request_id)
            raise
        self.created = item.id
        return item, resource_ids, request_id

    def finish(self, image):
        """Upload the data if the image still waits for it: after this
        run's create, or after an earlier run's that died before its
        upload. Another run's upload in progress is waited for."""
        source = self._kwargs.get('filename') or self._kwargs.get('data')
        status, refused = image.status, 0
        while source is not None:
            status = self._await_upload(image.id, status)
            if status != 'queued':
                break
            LOG.debug('Image %s is queued: uploading its data (%s run\'s '
                      'image)', image.id, 'this' if image.id == self.created
                      else 'an earlier')
            if image.id != self.created:
                self._say('Uploading the data of image %s, which an earlier '
                          'run created but did not finish.' % image.id)
            try:
                self._upload(image.id, source)
                break
            except errors.ApiError as exc:
                # another run's upload may have begun (Glance: 409, or
                # under load 410/500): what counts is the image's status
                status = self._status(image.id)
                refused += 1
                if status != 'queued' or refused < 5:
                    time.sleep(POLL_SECONDS)
                    continue
                raise errors.Refused(
                    'Image %s exists but the upload of its data failed: '
                    '%s. Run the same command again to upload it; the image '
                    'stays queued until then.' % (image.id, exc))
        return image

    def _await_upload(self, image_id, status):
        """The image's status once no upload is on its way (or after
        ``WAIT_SECONDS``, with a word on what to do)."""
        waited = 0
        while status in BUSY:
            if waited >= WAIT_SECONDS:
                self._say('Image %s is still %s after %d seconds; run the '
                          'same command again later to see it finished.'
                          % (image_id, status, waited))
                break
            if waited % 30 == 0:
                self._say('Waiting for another run\'s upload to image %s to '
                          'finish (%s)...' % (image_id, status))
            time.sleep(POLL_SECONDS)
            waited += 1
            status = self._status(image_id)
        return status

    def _status(self, image_id):
        """The image's status now. Glance answers a refused upload (409)
        without reading its body and closes the connection: a call that
        found it closed is sent once more, on a new one."""
        try:
            body = self.client.get(image_id)
        except errors.ApiError as exc:
            if exc.status_code is not None:
                raise
            body = self.client.get(image_id)
        return body['status'] if body else 'deleted'

    def _upload(self, image_id, source):
        data = open(source, 'rb') if isinstance(source, str) else source
        if failpoints.armed('during-upload'):
            data = failpoints.PartWay(data, 'during-upload')
        try:
            if self._kwargs.get('use_import'):
                self.client.stage_and_import(image_id, data)
            else:
                self.client.upload(image_id, data, self._kwargs.get('size'))
        finally:
            if isinstance(source, str):
                data.close()

    @classmethod
    def install(cls, app, parsed_args, token, task_tag, say):
        """Wrap this command's create call (see ``hooks``)."""
        if getattr(parsed_args, 'id', None):
            raise errors.Refused(
                '--id cannot be used with --client-token or --task-tag: the '
                'token chooses the image id. Nothing was sent.')
        proxy = app.client_manager.image
        original = post_only(proxy, proxy.create_image)

        def create_image(**kwargs):
            kind = None

            def make(request):
                nonlocal kind
                kind = cls(image_api.ImageClient(proxy), original, kwargs,
                           request, say)
                return kind
            image = cls.run(app, parsed_args, proxy, fingerprinted(kwargs),
                            token, task_tag, say, make)
            return kind.finish(image)

        wrapping.wrap_create(proxy, 'create_image', create_image)
        return base.Finished()


install = ImageKind.install
