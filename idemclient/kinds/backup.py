"""``openstack volume backup create --client-token``: Cinder backups.

Backups keep metadata only from 3.43, and Cinder cannot filter them on it
(its backup filters are name, status and volume id, and the metadata
query is never parsed): they are listed by their volume and the marker
matched here. A volume rarely has many backups.
"""

from idemclient.core import registry
from idemclient.kinds import cinder

OPERATION = registry.BY_COMMAND['volume backup create'].operation
METADATA_MICROVERSION = '3.43'


class BackupKind(cinder.CinderKind):
    operation = OPERATION
    noun = 'backup'
    collection = 'backups'
    sdk_class = 'openstack.block_storage.v3.backup:Backup'
    create_call = 'create_backup'
    microversion = METADATA_MICROVERSION

    def lookup(self, marker):
        return self.client.filtered(
            'backups', {'volume_id': self._kwargs['volume_id']},
            lambda b: (b.get('metadata') or {}).get(cinder.MARKER_KEY) ==
            marker)


install = BackupKind.install
