"""``openstack server image create --client-token``: a server's snapshot.

Nova's createImage makes the Glance image (``queued``) before it answers,
with the request's metadata as the image's properties: the markers ride
there, so the image is found by property from any host while Nova still
uploads it. A snapshot inherits the properties of its server's image, ours
included: every marker key is set (the tag's empty when unused), and among
images carrying the marker, the one with this kind's task id (the oldest,
should a later snapshot have inherited it) is the request's.
"""

from idemclient.clients import compute as compute_api
from idemclient.clients import image as image_api
from idemclient.core import idempotent
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.kinds import base
from idemclient.kinds import image as image_kind
from idemclient import wrapping

OPERATION = registry.BY_COMMAND['server image create'].operation


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


class ServerImageKind(base.WrappedCreate):
    operation = OPERATION
    noun = 'image'
    create_call = 'create_server_image'
    sdk = staticmethod(image_kind.sdk_image)

    def __init__(self, compute, images, create, kwargs, request):
        super().__init__(compute, create, kwargs, request)
        self.images = images

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
        return self.sdk(body) if body else None

    def discard(self, resource_id):
        self.images.delete('images', resource_id)

    def find(self, request):
        found = marked_images(self.images, self.operation, request.marker,
                              request.task_id)
        return image_kind.found_image(self, found[0]) if found else None

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
                               original, kwargs, request))

        wrapping.wrap_create(proxy, 'create_server_image',
                             create_server_image)
        return base.Finished()


install = ServerImageKind.install
