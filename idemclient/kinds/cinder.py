"""Cinder's volumes, snapshots and backups as Kinds: one base, a class
attribute per difference (``kinds.volume``, ``kinds.snapshot``,
``kinds.backup``).

The marker is metadata set in the create request itself: Cinder stores it
in the same transaction as the row, so the resource is found while still
``creating``. Volumes and snapshots are looked up with Cinder's metadata
filter, which only from microversion 3.31 refuses (rather than drops) a
filter the cloud does not allow; backups take metadata from 3.43 and
cannot be filtered on it, so they are listed by their volume and matched
here. A cloud too old for the kind is refused before anything is sent.
"""


from idemclient.clients import block_storage as volume_api
from idemclient.clients import errors
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent
from idemclient.core import token as tokens
from idemclient.kinds import base
from idemclient import wrapping

MARKER_KEY = 'idemclient:marker'
FINGERPRINT_KEY = fp.METADATA_KEY
TAG_KEY = 'idemclient:tag'    # the task tag's marker, when one was given
TASK_KEY = 'idemclient:task'  # the task id's marker


class CinderKind(base.WrappedCreate):
    """What differs between the kinds is class attributes; ``collection``
    is the REST path and the body's key."""

    microversion = volume_api.FILTER_MICROVERSION  # needed to find it again

    @classmethod
    def marker_metadata(cls, request):
        """What the item carries so any host finds it: by token, tag, id."""
        metadata = {MARKER_KEY: request.marker,
                    FINGERPRINT_KEY: request.fingerprint.encode(),
                    TASK_KEY: tokens.id_tag(cls.operation, request.task_id)}
        if request.task_tag:
            metadata[TAG_KEY] = tokens.derive_tag(
                request.scope, request.task_tag, prefix='task')
        return metadata

    def lookup(self, marker):
        """Items carrying the marker (the oldest first)."""
        return self.client.with_metadata(self.collection, MARKER_KEY, marker)

    def find(self, request):
        found = sorted(self.lookup(request.marker), key=lambda item: (
            item.get('created_at') or '', item['id']))
        if not found:
            return None
        recorded = (found[0].get('metadata') or {}).get(FINGERPRINT_KEY)
        return idempotent.Found(self.sdk(found[0]), [found[0]['id']],
                                fp.Fingerprint.decode(recorded)
                                if recorded else None)

    def marked(self, kwargs):
        return dict(kwargs, metadata=dict(kwargs.get('metadata') or {},
                                          **self.marker_metadata(
                                              self._request)))

    @classmethod
    def install(cls, app, parsed_args, token, task_tag, say):
        """Wrap this command's create call (see ``hooks``)."""
        proxy = app.client_manager.volume
        original = getattr(proxy, cls.create_call)

        def create(**kwargs):
            client = volume_api.BlockStorageClient(proxy)
            if not client.supports(cls.microversion):
                raise errors.Refused(
                    '--client-token and --task-tag need block storage API '
                    '%s or later for %ss; this cloud does not offer it. '
                    'Nothing was sent.' % (cls.microversion, cls.noun))
            return cls.run(app, parsed_args, proxy, kwargs, token,
                           task_tag, say, lambda request: cls(
                               client, original, kwargs, request))

        wrapping.wrap_create(proxy, cls.create_call, create)
        return base.Finished()
