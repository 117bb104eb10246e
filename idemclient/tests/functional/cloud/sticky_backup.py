"""Cinder's posix backup driver, able to stick in ``creating`` on request.

Seed 004's problem is a backup left ``creating`` when cinder-backup stops
working on it. A backup of a volume carrying the metadata item
``STICK_KEY`` does exactly that: it waits, cooperatively (eventlet), until
an admin moves it out of ``creating`` (``openstack backup reset-state``),
then gives up so Cinder puts the volume back. Any other backup is made as
the posix driver makes it, so other tests are not held up.
"""
import time

from cinder.backup.drivers import posix
from cinder import exception
from cinder import objects

STICK_KEY = 'idemclient-test:stick-backup'
# Never hold a green thread longer than a whole test run.
GIVE_UP_SECONDS = 1800


class StickyPosixBackupDriver(posix.PosixBackupDriver):

    def backup(self, backup, volume_file, backup_metadata=True):
        volume = objects.Volume.get_by_id(self.context, backup.volume_id)
        if STICK_KEY not in (volume.metadata or {}):
            return super().backup(backup, volume_file, backup_metadata)
        deadline = time.monotonic() + GIVE_UP_SECONDS
        while time.monotonic() < deadline:
            time.sleep(1)  # green: monkey patched by cinder_aio
            backup.refresh()
            if backup.status != 'creating':
                break
        raise exception.BackupDriverException(
            reason='stuck on purpose (%s), released' % STICK_KEY)
