"""``openstack server image create --client-token``: a server's snapshot.

Nova's createImage makes the Glance image (``queued``) before it answers,
with the request's metadata as the image's properties: the markers ride
there, so the image is found by property from any host while Nova still
uploads it. A snapshot inherits the properties of its server's image, ours
included: every marker key is set (the tag's empty when unused), and among
images carrying the marker, the one with this kind's task id (the oldest,
should a later snapshot have inherited it) is the request's.
"""

import os
import time

from idemclient.clients import compute as compute_api
from idemclient.clients import image as image_api
from idemclient.core import converge
from idemclient.core import idempotent
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.kinds import base
from idemclient.kinds import image as image_kind
from idemclient import wrapping

OPERATION = registry.BY_COMMAND['server image create'].operation
# How old a queued, data-less snapshot image of a task must be before it
# is taken for one Nova made but never took; $IDEMCLIENT_ORPHAN_GRACE.
ORPHAN_GRACE_SECONDS = 300.0
GRACE_VARIABLE = 'IDEMCLIENT_ORPHAN_GRACE'
# How long a lookup waits for one of several queued images of a task to
# show it is the snapshot Nova took.
UNDECIDED_SECONDS = 60.0


def marked_images(images, operation, marker, task_id):
    """Snapshots carrying ``marker`` and made for ``task_id``: those with
    data first, then the oldest. Nova 34 can answer a concurrent
    createImage with a 500 after making its image, which then stays
    ``queued`` for ever; the snapshot Nova really took gets data."""
    own = tokens.id_tag(operation, task_id)
    found = [body for body in images.with_property(image_kind.MARKER_KEY,
                                                   marker)
             if body.get(image_kind.TASK_KEY) == own]
    return sorted(found, key=lambda body: body.get('status') == 'queued')


def orphan_grace(environ=os.environ):
    """The grace period in seconds (the variable, else the default)."""
    try:
        return max(0.0, float(environ[GRACE_VARIABLE]))
    except (KeyError, ValueError):
        return ORPHAN_GRACE_SECONDS


def discard_orphans(images, found, chosen_id, say, grace=None,
                    now=time.time):
    """Delete the task's snapshot images other than ``chosen_id`` that
    Nova made but never took: still ``queued``, with no data, older than
    the grace period (Nova 34 answers a createImage that meets another
    snapshot with a 500 after making its image, which stays so for ever).
    Says so for each."""
    grace = orphan_grace() if grace is None else grace
    for body in found:
        if body['id'] == chosen_id or body.get('status') != 'queued' or \
                body.get('size') or body.get('checksum'):
            continue
        created = converge.epoch(body.get('created_at'))
        age = now() - created if created is not None else 0.0  # as new
        if age < grace:
            continue
        images.delete('images', body['id'])
        say('Deleted image %s: a snapshot image Nova made for this task but '
            'never took (queued, with no data, %.0fs old).'
            % (body['id'], age))


class ServerImageKind(base.WrappedCreate):
    operation = OPERATION
    noun = 'image'
    create_call = 'create_server_image'
    sdk = staticmethod(image_kind.sdk_image)

    def __init__(self, compute, images, create, kwargs, request,
                 say=lambda message: None):
        super().__init__(compute, create, kwargs, request)
        self.images = images
        self._say = say

    @classmethod
    def request_for(cls, scope, kwargs, client_token, task_tag):
        """Fingerprint over the server, the name and the user's metadata;
        the journal keeps the server (its createImage action tells what
        became of a snapshot whose image Nova deleted)."""
        return idempotent.Request.for_create(cls.operation, scope, kwargs,
                                             client_token, task_tag,
                                             target=kwargs['server'],
                                             unordered=cls.unordered)

    def fetch(self, resource_ids):
        body = self.images.get(resource_ids[0])
        if body is not None:
            self._discard_orphans(resource_ids[0])
        return self.sdk(body) if body else None

    def _discard_orphans(self, chosen_id, found=None):
        if found is None:
            found = marked_images(self.images, self.operation,
                                  self._request.marker,
                                  self._request.task_id)
        discard_orphans(self.images, found, chosen_id, self._say)

    def discard(self, resource_id):
        self.images.delete('images', resource_id)

    def find(self, request):
        found = marked_images(self.images, self.operation, request.marker,
                              request.task_id)
        if not found:
            return None
        found = self._one_with_data(request, found)
        self._discard_orphans(found[0]['id'], found)
        return image_kind.found_image(self, found[0])

    def _one_with_data(self, request, found, patience=UNDECIDED_SECONDS,
                       interval=1.0, sleep=time.sleep):
        """Several images of the task, all still ``queued``: Nova took
        one, and made the others for createImage calls it answered 500.
        Which it took shows once that one leaves ``queued``: wait for it
        (a while, then the oldest as before)."""
        deadline = time.monotonic() + patience
        said = False
        while len(found) > 1 and found[0].get('status') == 'queued' and \
                time.monotonic() < deadline:
            if not said:
                self._say('Waiting for one of the %d snapshot images of %s '
                          'to receive its data (the others Nova made but '
                          'never took)...' % (len(found), request.label))
                said = True
            sleep(interval)
            found = marked_images(self.images, self.operation,
                                  request.marker, request.task_id) or found
        return found

    def marked(self, kwargs):
        return dict(kwargs, metadata=dict(
            kwargs.get('metadata') or {},
            **image_kind.marker_properties(self._request, self.operation)))

    @classmethod
    def install(cls, app, parsed_args, token, task_tag, say):
        """Wrap this command's create call (see ``hooks``)."""
        proxy = app.client_manager.compute
        original = proxy.create_server_image

        def create_server_image(server, name, metadata=None, **options):
            kwargs = dict(options, server=server, name=name,
                          metadata=metadata)
            return cls.run(app, parsed_args, proxy, kwargs, token,
                           task_tag, say, lambda request: cls(
                               compute_api.ComputeClient(proxy),
                               image_api.ImageClient(
                                   app.client_manager.image),
                               original, kwargs, request, say))

        wrapping.wrap_create(proxy, 'create_server_image',
                             create_server_image)
        return base.Finished()


install = ServerImageKind.install
