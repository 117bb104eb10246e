"""Named crash points, for the crash tests.

With ``IDEMCLIENT_FAILPOINT=<name>`` in its environment the process kills
itself with SIGKILL when it reaches that point: a real crash at an exact
step, which no timing-based kill can hit reliably. Costs one dict lookup.
"""

import os
import signal

ENV_VAR = 'IDEMCLIENT_FAILPOINT'
NAMES = ('before-journal-commit', 'after-journal-commit', 'after-response')


def hit(name):
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
