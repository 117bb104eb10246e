"""Named points where a test can make the process crash, stop or wait, to
hit an exact step that no timing can hit reliably. Costs one dict lookup.

``IDEMCLIENT_FAILPOINT=<point>`` kills the process there with SIGKILL (a
real crash); ``stop-<point>`` stops it with SIGSTOP (a paused holder, to be
resumed by the test with SIGCONT); ``barrier-<point>`` waits there until
``n`` processes have arrived, given as ``IDEMCLIENT_BARRIER=<dir>:<n>``
(each process a file in ``<dir>``), so that they all pass it together.
Several, separated by commas, each act at their own point.

``BEFORE_SENDING`` and ``AFTER_SENDING`` name every point, in the order a
create passes them; doc/source/development.rst says which of them the
crash matrix kills at, for which kinds.
"""

import os
import signal
import time

ENV_VAR = 'IDEMCLIENT_FAILPOINT'
BARRIER_VAR = 'IDEMCLIENT_BARRIER'
# Before the create is sent: the cloud holds nothing of it (a reservation
# at most). In this order with a reservation; without one (image and
# keypair creates, ``--no-reservation``) the lookup comes before the
# journal and there is no ``after-reserve``.
BEFORE_SENDING = ('before-lock', 'before-journal-commit',
                  'after-journal-commit', 'after-reserve', 'after-lookup')
# The points a create without a reservation never passes.
RESERVING_ONLY = ('after-reserve',)
# The cloud has acted and the client has not recorded it (yet).
AFTER_SENDING = (
    'after-response',        # every kind: answered, not recorded
    'during-upload',         # image: the POST answered, part of the data out
    'settle-after-list',     # server: settle listing seen, nothing deleted
    'before-delete-loser',   # server: a loser of this host not yet deleted
    'after-delete-loser',    # server: a loser deleted, the winner unrecorded
    'settle-before-record',  # server: winner decided, not recorded
    'before-key-file',       # keypair: recorded, private key file unwritten
)
POINTS = BEFORE_SENDING + AFTER_SENDING
BARRIER_SECONDS = 120


def hit(point):
    wanted = os.environ.get(ENV_VAR)
    if not wanted or point not in wanted:
        return
    actions = wanted.split(',')
    if 'barrier-' + point in actions:
        _barrier(os.environ[BARRIER_VAR])
    if 'stop-' + point in actions:
        os.kill(os.getpid(), signal.SIGSTOP)
    if point in actions:
        os.kill(os.getpid(), signal.SIGKILL)


def armed(point):
    """Whether ``point`` acts in this process (to set up only then what
    reaching it needs, as a reader that can stop part-way)."""
    wanted = os.environ.get(ENV_VAR)
    return bool(wanted) and point in wanted


class PartWay:
    """A file whose reader hits ``point`` once ``after`` bytes of it were
    read (and so sent): a crash part-way through an upload."""

    def __init__(self, raw, point, after=1):
        self._raw, self._point, self._after = raw, point, after
        self._read = 0

    def read(self, size=-1):
        if self._read >= self._after:
            hit(self._point)
        chunk = self._raw.read(size)
        self._read += len(chunk)
        return chunk

    def __getattr__(self, name):
        return getattr(self._raw, name)


def _barrier(spec):
    directory, _, count = spec.rpartition(':')
    open(os.path.join(directory, 'arrived-%d' % os.getpid()), 'w').close()
    deadline = time.monotonic() + BARRIER_SECONDS
    while len(os.listdir(directory)) < int(count):
        if time.monotonic() > deadline:
            raise RuntimeError('barrier %s: not all arrived' % spec)
        time.sleep(0.01)
