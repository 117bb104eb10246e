"""Wrap an SDK proxy's create call for one command, and undo it after.

OSC's interactive shell, and ``openstack < file`` that scripts use, keep one
client manager, and so one proxy object, for every command they run: a
wrap left in place would take the next command's create, with the old
token. Every wrap goes through ``wrap`` and is undone by ``unwrap_all``,
which the hook calls when its command ends, however it ends.
"""

_WRAPPED = []  # (object, attribute, its own value before or _ABSENT)
_ABSENT = object()


def wrap(obj, name, replacement):
    """Set ``obj.name`` to ``replacement`` until ``unwrap_all``."""
    _WRAPPED.append((obj, name, vars(obj).get(name, _ABSENT)))
    setattr(obj, name, replacement)


def unwrap_all():
    """Put back every wrapped attribute, the last wrapped first."""
    while _WRAPPED:
        obj, name, before = _WRAPPED.pop()
        if before is _ABSENT:
            vars(obj).pop(name, None)
        else:
            setattr(obj, name, before)
