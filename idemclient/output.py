"""Progress and notes for the user: on standard error, so ``-f json``
output on standard output stays clean."""

import sys


def say(app, message):
    stderr = getattr(app, 'stderr', None) or sys.stderr
    stderr.write(message + '\n')
    stderr.flush()
