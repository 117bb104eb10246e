"""Tiny file-backed Cinder volume driver for local test peers.

Each volume is a sparse file <file_volume_dir>/volume-<id>.  Connections are
os-brick 'local' connections (device_path = the file), so cinder-backup can
read the volume with the real posix/chunked backup driver.  No LVM, iSCSI,
loop devices or root helpers are needed.
"""
import os
import shutil

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from cinder.volume import configuration
from cinder.volume import driver

LOG = logging.getLogger(__name__)

file_opts = [
    cfg.StrOpt('file_volume_dir', default="/tmp/idemclient-volumes",
               help='Directory holding sparse volume files.'),
    cfg.IntOpt('file_volume_capacity_gb', default=1000,
               help='Capacity reported to the scheduler.'),
    cfg.IntOpt('file_volume_file_mb', default=0,
               help='If >0, volume files are created with this many MiB '
                    'instead of the full volume size.  cinder-backup reads '
                    'the file to EOF, so a 1 MiB file makes a backup of a '
                    '"1 GiB" volume take milliseconds instead of seconds.'),
]
cfg.CONF.register_opts(file_opts, group=configuration.SHARED_CONF_GROUP)


class LocalFileVolumeDriver(driver.VolumeDriver):
    VERSION = '1.0.0'
    CI_WIKI_NAME = 'none'
    SUPPORTED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.configuration:
            self.configuration.append_config_values(file_opts)

    # -- helpers
    @property
    def _dir(self):
        return self.configuration.safe_get('file_volume_dir')

    def _vpath(self, volume):
        return os.path.join(self._dir, 'volume-%s' % volume.id)

    def _spath(self, snapshot):
        return os.path.join(self._dir, 'snapshot-%s' % snapshot.id)

    def _sparse(self, path, size_gb):
        mb = self.configuration.safe_get('file_volume_file_mb') or 0
        size = mb * units.Mi if mb > 0 else int(size_gb) * units.Gi
        with open(path, 'ab') as f:
            if f.tell() < size:
                f.truncate(size)

    @staticmethod
    def _copy(src, dst):
        shutil.copyfile(src, dst)

    # -- setup
    def do_setup(self, context):
        os.makedirs(self._dir, exist_ok=True)

    def check_for_setup_error(self):
        if not os.path.isdir(self._dir):
            raise RuntimeError('missing %s' % self._dir)

    # -- volumes
    def create_volume(self, volume):
        self._sparse(self._vpath(volume), volume.size)
        return {'provider_location': self._vpath(volume)}

    def delete_volume(self, volume):
        try:
            os.unlink(self._vpath(volume))
        except FileNotFoundError:
            pass

    def extend_volume(self, volume, new_size):
        self._sparse(self._vpath(volume), new_size)

    def create_snapshot(self, snapshot):
        self._copy(self._vpath(snapshot.volume), self._spath(snapshot))

    def delete_snapshot(self, snapshot):
        try:
            os.unlink(self._spath(snapshot))
        except FileNotFoundError:
            pass

    def create_volume_from_snapshot(self, volume, snapshot):
        self._copy(self._spath(snapshot), self._vpath(volume))
        self._sparse(self._vpath(volume), volume.size)
        return {'provider_location': self._vpath(volume)}

    def create_cloned_volume(self, volume, src_vref):
        self._copy(self._vpath(src_vref), self._vpath(volume))
        self._sparse(self._vpath(volume), volume.size)
        return {'provider_location': self._vpath(volume)}

    # -- exports / connections
    def create_export(self, context, volume, connector):
        pass

    def ensure_export(self, context, volume):
        pass

    def remove_export(self, context, volume):
        pass

    def initialize_connection(self, volume, connector):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._vpath(volume)}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    def create_export_snapshot(self, context, snapshot, connector):
        pass

    def remove_export_snapshot(self, context, snapshot):
        pass

    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._spath(snapshot)}}

    def terminate_connection_snapshot(self, snapshot, connector, **kwargs):
        pass

    # -- stats
    def _update_volume_stats(self):
        name = (self.configuration.safe_get('volume_backend_name') or
                'filebackend')
        cap = self.configuration.safe_get('file_volume_capacity_gb')
        self._stats = {
            'volume_backend_name': name,
            'vendor_name': 'idemclient cloud',
            'driver_version': self.VERSION,
            'storage_protocol': 'local',
            'total_capacity_gb': cap,
            'free_capacity_gb': cap,
            'reserved_percentage': 0,
            'thin_provisioning_support': True,
            'thick_provisioning_support': False,
            'max_over_subscription_ratio': 20.0,
            'multiattach': False,
            'QoS_support': False,
        }
