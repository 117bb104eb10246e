"""Wrap an SDK proxy's create call for one command, and undo it after.

OSC's interactive shell, and ``openstack < file`` that scripts use, keep one
client manager, and so one proxy object, for every command they run: a
wrap left in place would take the next command's create, with the old
token. Every wrap goes through ``wrap`` and is undone by ``unwrap_all``,
which the hook calls when its command ends, however it ends.

A command with a token whose create leaves by another call than the one
wrapped (OSC's compute path of ``security group create`` where the catalog
has no network endpoint, a create an OSC release moved to another SDK call)
would ignore the token: ``refuse_unprotected_posts`` stops such a POST
before it is sent.
"""

import functools
from urllib import parse

_WRAPPED = []  # (object, attribute, its own value before or _ABSENT)
_ABSENT = object()
_REACHED = []  # the wrapped creates this command has called


def wrap(obj, name, replacement):
    """Set ``obj.name`` to ``replacement`` until ``unwrap_all``."""
    _WRAPPED.append((obj, name, vars(obj).get(name, _ABSENT)))
    setattr(obj, name, replacement)


def wrap_create(obj, name, replacement):
    """``wrap`` for the create call a kind protects: once it is called,
    POSTs leave freely (its own, and what OSC does after it)."""
    @functools.wraps(replacement)
    def create(*args, **kwargs):
        _REACHED.append(name)
        return replacement(*args, **kwargs)
    wrap(obj, name, create)


def refuse_unprotected_posts(refusal):
    """Until a ``wrap_create`` call is reached, a POST through any
    keystoneauth session (OSC's, the SDK's: Keystone's own logins aside)
    is a create the hook does not protect: raise ``refusal(what)``
    instead of sending it."""
    from keystoneauth1 import session
    original = session.Session.request

    def request(self, url, method, *args, **kwargs):
        path = parse.urlparse(url).path
        if not _REACHED and method.upper() == 'POST' and \
                '/auth/' not in path:
            service = (kwargs.get('endpoint_filter') or {}).get(
                'service_type')
            raise refusal('%s to the %s service' % (path, service)
                          if service else path)
        return original(self, url, method, *args, **kwargs)
    wrap(session.Session, 'request', request)


def unwrap_all():
    """Put back every wrapped attribute, the last wrapped first."""
    del _REACHED[:]
    while _WRAPPED:
        obj, name, before = _WRAPPED.pop()
        if before is _ABSENT:
            vars(obj).pop(name, None)
        else:
            setattr(obj, name, before)
