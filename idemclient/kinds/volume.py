"""``openstack volume create --client-token``: Cinder volumes."""

from idemclient.kinds import cinder

OPERATION = 'volume.create'


class VolumeKind(cinder.CinderKind):
    operation = OPERATION
    noun = 'volume'
    collection = 'volumes'
    sdk_class = 'openstack.block_storage.v3.volume:Volume'
    create_call = 'create_volume'


install = VolumeKind.install
