"""``openstack volume create --client-token``: Cinder volumes."""

from idemclient.core import registry
from idemclient.kinds import cinder

OPERATION = registry.BY_COMMAND['volume create'].operation


class VolumeKind(cinder.CinderKind):
    operation = OPERATION
    noun = 'volume'
    collection = 'volumes'
    sdk_class = 'openstack.block_storage.v3.volume:Volume'
    create_call = 'create_volume'


install = VolumeKind.install
