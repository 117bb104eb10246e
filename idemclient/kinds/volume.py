"""``openstack volume create --client-token``: Cinder volumes as a Kind.

The marker is volume metadata set in the create request itself: Cinder
stores it in the same transaction as the row, so the volume is found while
still ``creating``. A retry looks it up with Cinder's metadata filter, which
only from microversion 3.31 refuses (rather than drops) a filter the cloud
does not allow; an older cloud is refused before anything is sent.
"""

from osc_lib import exceptions

from idemclient import context
from idemclient.clients import block_storage as volume_api
from idemclient.clients import errors
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent
from idemclient.core import token as tokens

OPERATION = 'volume.create'
MARKER_KEY = 'idemclient:marker'
FINGERPRINT_KEY = 'idemclient:params'
TAG_KEY = 'idemclient:tag'    # the task tag's marker, when one was given
TASK_KEY = 'idemclient:task'  # the task id's marker


def marker_metadata(request):
    """What the volume carries so any host finds it, by token, tag or id."""
    metadata = {MARKER_KEY: request.marker,
                FINGERPRINT_KEY: request.fingerprint.encode(),
                TASK_KEY: tokens.id_tag(OPERATION, request.task_id)}
    if request.task_tag:
        metadata[TAG_KEY] = tokens.derive_tag(request.scope, request.task_tag,
                                              prefix='task')
    return metadata


def sdk_volume(body):
    from openstack.block_storage.v3 import volume as sdk
    return sdk.Volume.existing(**body)


class VolumeKind:
    noun = 'volume'

    def __init__(self, client, create, kwargs, request):
        self.client = client
        self._create = create
        self._kwargs = kwargs
        self._request = request

    def bind(self, entry):
        return None

    def find(self, request):
        found = sorted(self.client.volumes_with_metadata(
            MARKER_KEY, request.marker), key=lambda v: (
                v.get('created_at') or '', v['id']))
        if not found:
            return None
        recorded = (found[0].get('metadata') or {}).get(FINGERPRINT_KEY)
        return idempotent.Found(sdk_volume(found[0]), [found[0]['id']],
                                fp.Fingerprint.decode(recorded)
                                if recorded else None)

    def fetch(self, resource_ids):
        body = self.client.get_volume(resource_ids[0])
        return sdk_volume(body) if body else None

    def send(self, entry):
        kwargs = dict(self._kwargs)
        kwargs['metadata'] = dict(kwargs.get('metadata') or {},
                                  **marker_metadata(self._request))
        try:
            volume, response = self.client.guarded_create(
                lambda: self._create(**kwargs), entry.request_id,
                self._request.client_token)
        except Exception as exc:  # SDK or keystoneauth: translate once
            raise errors.sdk_error(exc)
        return volume, [volume.id], errors.response_request_id(response)


def request_for(scope, kwargs, client_token, task_tag):
    """Fingerprint over what OSC resolved: size, type, source ids..."""
    return idempotent.Request.for_create(OPERATION, scope, kwargs,
                                         client_token, task_tag,
                                         target=kwargs.get('name'))


def install(app, parsed_args, token, task_tag, say):
    """Wrap this ``volume create``'s create call (see ``hooks``)."""
    volume = app.client_manager.volume
    original = volume.create_volume

    def create_volume(**kwargs):
        client = volume_api.BlockStorageClient(volume)
        if not client.supports(volume_api.FILTER_MICROVERSION):
            raise exceptions.CommandError(
                '--client-token and --task-tag need block storage API %s or '
                'later (a metadata filter the cloud refuses rather than '
                'ignores); this cloud does not offer it. Nothing was sent.'
                % volume_api.FILTER_MICROVERSION)
        request = request_for(context.scope_of(app, volume), kwargs, token,
                              task_tag)
        return idempotent.run_once(
            context.journal_path(app), request,
            VolumeKind(client, original, kwargs, request), say,
            context.coordination_url(app))

    volume.create_volume = create_volume
    return Finished()


class Finished:
    def after(self, parsed_args, return_code):
        return return_code
