"""Where idemclient's errors (``core.errors``) become OSC's one-line
``CommandError``: the hook and the commands run their work inside
``translated``, and nowhere else is a ``CommandError`` made of them."""

import contextlib

from osc_lib import exceptions

from idemclient.core import errors


@contextlib.contextmanager
def translated():
    """Run the block; an ``IdemError`` leaves it as a ``CommandError``
    with the same words."""
    try:
        yield
    except errors.IdemError as exc:
        raise exceptions.CommandError(str(exc)) from exc
