"""An optional lock across hosts, through tooz (OpenStack's coordination
library: etcd, Redis, ZooKeeper, ...), around one token's lookup, journal
entry, create and settle.

Without it two hosts that miss the lookup together both create, and the
settle step (``converge``) removes the extra server a few seconds later; with
it only one create is sent. It cannot replace the settle step: a holder
paused past its lease (SIGSTOP, a VM freeze) still believes it holds the
lock, and Nova checks no fencing token.

Configured by ``$IDEMCLIENT_COORDINATION_URL``, else the cloud's
``idemclient_coordination_url`` key in clouds.yaml, e.g.
``etcd3+http://127.0.0.1:2379``. tooz is imported only then: it costs about
40 ms on top of OSC's own imports. A configured backend that cannot be
reached is an error, and nothing is sent (fail closed).
"""

import hashlib
import logging
import os
import socket
import time
import urllib.parse

from idemclient.core import errors

LOG = logging.getLogger(__name__)
ENV_VAR = 'IDEMCLIENT_COORDINATION_URL'
CLOUDS_YAML_KEY = 'idemclient_coordination_url'
WAIT_SECONDS = 600.0
POLL_SECONDS = 0.2


class CoordinationError(errors.IdemError):
    """The configured backend cannot be used; nothing may be sent."""


def backend_url(cloud_config, environ=None):
    """The configured URL, or None: the environment wins over clouds.yaml."""
    environ = os.environ if environ is None else environ
    return environ.get(ENV_VAR) or (cloud_config or {}).get(
        CLOUDS_YAML_KEY) or None


def redacted(url):
    """The URL without a password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = '%s:***@%s' % (parts.username or '', parts.hostname or '')
    if parts.port:
        netloc += ':%d' % parts.port
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def lock_name(scope_key, operation, idem_key):
    digest = hashlib.sha256('\0'.join(
        (scope_key, operation, idem_key)).encode()).hexdigest()
    return ('idemclient-' + digest).encode()


class Held:
    """A lock held through a started coordinator; ``release()`` once."""

    def __init__(self, coordinator, lock):
        self._coordinator, self._lock = coordinator, lock

    def release(self):
        if self._coordinator is None:
            return
        coordinator, self._coordinator = self._coordinator, None
        try:
            self._lock.release()
        finally:
            try:
                coordinator.stop()
            except Exception:  # the lease expires by itself
                pass


def acquire(url, name, on_wait=None, timeout=WAIT_SECONDS,
            poll=POLL_SECONDS):
    """Hold the lock ``name`` at ``url``; a ``Held``.

    Polls a non-blocking acquire: tooz's blocking acquire means a lease
    time on etcd and a wait time on Redis, and raises tenacity's RetryError
    on etcd when it gives up.
    """
    where = redacted(url)
    try:
        from tooz import coordination
    except ImportError:
        raise CoordinationError(
            'A coordination backend is configured (%s), but tooz is not '
            'installed: pip install "idemclient[etcd]" (or [redis]). '
            'Nothing was sent.' % where)
    member = ('%s-%d' % (socket.gethostname(), os.getpid())).encode()
    try:
        coordinator = coordination.get_coordinator(url, member)
        coordinator.start(start_heart=True)
    except Exception as exc:
        raise CoordinationError(
            'The coordination backend %s cannot be used (%s). Nothing was '
            'sent.' % (where, _first_line(exc)))
    lock = coordinator.get_lock(name)
    deadline = time.monotonic() + timeout
    waited = False
    try:
        while not lock.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise CoordinationError(
                    'Another run with the same token held its lock at %s '
                    'for more than %ds. Nothing was sent.' % (where, timeout))
            if on_wait and not waited:
                on_wait()
            waited = True
            time.sleep(poll)
    except CoordinationError:
        coordinator.stop()
        raise
    except Exception as exc:
        try:
            coordinator.stop()
        except Exception:
            pass
        raise CoordinationError(
            'The coordination backend %s failed while taking the lock (%s). '
            'Nothing was sent.' % (where, _first_line(exc)))
    LOG.debug('Holding lock %s at %s%s', name.decode(), where,
              ' after waiting for another run' if waited else '')
    return Held(coordinator, lock)


def _first_line(exc):
    """What went wrong, in a few words: tooz's own errors often say
    nothing but wrap the cause."""
    text = str(exc).strip() or type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and not str(exc).strip():
        text = '%s: %s' % (text, str(cause).strip() or type(cause).__name__)
    return text.splitlines()[0]
