"""Where idemclient's errors (``core.errors``) become OSC's one-line
``CommandError``: the hook and the commands run their work inside
``translated``, and nowhere else is a ``CommandError`` made of them.

An unknown outcome (``errors.Unknown``: sent, no answer) ends the
``openstack`` command with exit status 75 instead of OSC's 1, so that a
script can tell "run the same command again" from a refusal; in OSC's
interactive shell it is a ``CommandError`` like the others.
"""

import contextlib

from osc_lib import exceptions

from idemclient.core import errors


@contextlib.contextmanager
def translated(app=None):
    """Run the block; an ``IdemError`` leaves it as a ``CommandError``
    with the same words, or, given the ``app`` of a command line (not
    the interactive shell), an ``Unknown`` as its line on the app's
    standard error and ``SystemExit(75)``."""
    try:
        yield
    except errors.Unknown as exc:
        if app is None or getattr(app, 'interactive_mode', True):
            raise exceptions.CommandError(str(exc)) from exc
        app.stderr.write('%s\n' % exc)
        app.stderr.flush()
        raise SystemExit(exc.exit_status) from exc
    except errors.IdemError as exc:
        raise exceptions.CommandError(str(exc)) from exc
