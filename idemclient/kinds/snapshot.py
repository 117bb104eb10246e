"""``openstack volume snapshot create --client-token``: Cinder snapshots
(the metadata filter on snapshots exists from 3.22; 3.31 makes it safe)."""

from idemclient.core import registry
from idemclient.kinds import cinder

OPERATION = registry.BY_COMMAND['volume snapshot create'].operation


class SnapshotKind(cinder.CinderKind):
    operation = OPERATION
    noun = 'snapshot'
    collection = 'snapshots'
    sdk_class = 'openstack.block_storage.v3.snapshot:Snapshot'
    create_call = 'create_snapshot'


install = SnapshotKind.install
