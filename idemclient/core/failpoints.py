"""Named points where a test can make the process crash, stop or wait, to
hit an exact step that no timing can hit reliably. Costs one dict lookup.

``IDEMCLIENT_FAILPOINT=<point>`` kills the process there with SIGKILL (a
real crash); ``stop-<point>`` stops it with SIGSTOP (a paused holder, to be
resumed by the test with SIGCONT); ``barrier-<point>`` waits there until
``n`` processes have arrived, given as ``IDEMCLIENT_BARRIER=<dir>:<n>``
(each process a file in ``<dir>``), so that they all pass it together.
Several, separated by commas, each act at their own point.
"""

import os
import signal
import time

ENV_VAR = 'IDEMCLIENT_FAILPOINT'
BARRIER_VAR = 'IDEMCLIENT_BARRIER'
POINTS = ('before-lock', 'after-lookup', 'before-journal-commit',
          'after-journal-commit', 'after-response')
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


def _barrier(spec):
    directory, _, count = spec.rpartition(':')
    open(os.path.join(directory, 'arrived-%d' % os.getpid()), 'w').close()
    deadline = time.monotonic() + BARRIER_SECONDS
    while len(os.listdir(directory)) < int(count):
        if time.monotonic() > deadline:
            raise RuntimeError('barrier %s: not all arrived' % spec)
        time.sleep(0.01)
