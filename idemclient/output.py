"""Progress and notes for the user: on standard error, so ``-f json``
output on standard output stays clean."""

import sys


def say(app, message):
    stderr = getattr(app, 'stderr', None) or sys.stderr
    stderr.write(message + '\n')
    stderr.flush()


# The output column a create with a token or task tag adds: how it ended.
OUTCOME_COLUMN = 'idemclient_outcome'


class Reporter:
    """A command's ``say``, which ``core.idempotent`` also tells how the
    request ended (``outcome``: ``created`` or ``existed``; None until
    then), for the command's output."""

    def __init__(self, app):
        self.app = app
        self.outcome = None

    def __call__(self, message):
        say(self.app, message)


def with_outcome(result, outcome):
    """A ShowOne command's ``(columns, data)`` with the outcome added; any
    other result (a key written to a file, a listing) as it was."""
    if outcome is None or not isinstance(result, tuple) or \
            len(result) != 2 or not result[0]:
        return result
    columns, data = result
    return tuple(columns) + (OUTCOME_COLUMN,), tuple(data) + (outcome,)
