"""idemclient's exceptions, in one tree. Each says in one line what went
wrong and what to do; OSC's ``CommandError`` is made of them once, where a
command ends (``idemclient.boundary``, used by the hook and the commands).

    Exception
     +-- IdemError             what idemclient tells the user
     |    +-- Refused          the request cannot go on: nothing was sent
     |    |                    (bad input, other parameters, an unusable
     |    |                    journal or lock, a cloud too old)
     |    +-- Unknown          sent, no clear answer: run the same command
     |    |                    again to find out
     |    +-- ApiError         the cloud said no, or did not answer
     |    |                    (its message, status and request id;
     |    |                    raised by ``clients``)
     |    +-- journal.JournalError          the journal cannot be used
     |    +-- coordination.CoordinationError  the lock backend cannot be
     |                                        used
     +-- ValueError
          +-- token.InvalidToken  a token or tag breaks the rule
"""


class IdemError(Exception):
    """What idemclient tells the user, in one line."""


class Refused(IdemError):
    """The request cannot go on; nothing was sent."""


class Unknown(IdemError):
    """Sent, with no clear answer (``sent``: the create itself), or the
    cloud too busy to tell: the same command finds out."""

    # The exit status of a command that ends so (sysexits' EX_TEMPFAIL):
    # "run it again", distinct from 1 for shell loops and Ansible.
    exit_status = 75

    def __init__(self, message, sent=False):
        super().__init__(message)
        self.sent = sent


class ApiError(IdemError):
    """A call the cloud answered with an error (or did not answer).

    ``transient``: no answer (a connection error, a read timeout), a
    gateway's 502/503/504 or a 429: the same call may well succeed later
    (``core.retry``); ``retry_after``: the seconds the cloud asked to wait
    (its ``Retry-After``), or None."""

    def __init__(self, message, status_code=None, request_id=None,
                 transient=False, retry_after=None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.transient = transient
        self.retry_after = retry_after

    def __str__(self):
        text = self.message
        if self.status_code:
            text = '%s (HTTP %s)' % (text, self.status_code)
        if self.request_id:
            text = '%s (Request-ID: %s)' % (text, self.request_id)
        return text
