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


def protect_key_file(parsed_args):
    """``keypair create --private-key FILE``: OSC writes the file with the
    umask's mode (0644), a leak. Create it 0600 first; OSC's
    ``open(..., 'w+')`` keeps the mode."""
    private_key = getattr(parsed_args, 'private_key', None)
    if private_key and not getattr(parsed_args, 'public_key', None):
        ensure_private(private_key)
