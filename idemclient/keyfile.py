"""Private key files: never readable by anyone but their owner."""

import os
import tempfile


def ensure_private(path):
    """Create ``path`` empty with mode 0600, or make it 0600 if it exists."""
    path = os.path.expanduser(path)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
    except OSError:
        pass  # OSC reports the failure to write it in its own words


def write_private(path, text):
    """Write ``text`` to ``path`` atomically, mode 0600, synced."""
    path = os.path.expanduser(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.idemclient-')
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
