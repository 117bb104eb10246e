"""Retries inside the command, as the AWS CLI makes them with its tokens.

A token makes a create safe to repeat, so the command repeats it itself
when the cloud did not answer (a connection error, a read timeout), or
said "not now" (a gateway's 502/503/504, a 429): the whole decision runs
again, lookup first, never a blind re-POST. Between tries: exponential
backoff with jitter (hosts that failed together do not come back
together), and at least what the cloud's ``Retry-After`` asked. Bounded:
``retries`` more tries (0: none), none that would start after ``window``
seconds. Whatever else goes wrong ends the command at once.

A transient failure that is not retried (the last, or retries off) ends
as ``errors.Unknown``: exit status 75, "run the same command again".
"""

import random
import time

from idemclient.core import errors

ENV_VAR = 'IDEMCLIENT_RETRIES'
CLOUDS_YAML_KEY = 'idemclient_retries'
DEFAULT_RETRIES = 2       # three tries in all
MAX_RETRIES = 10
WINDOW_SECONDS = 60.0     # no try starts later than this after the first
BASE_SECONDS = 1.0        # the first backoff; doubled each time
CAP_SECONDS = 20.0


def retries_from(option, cloud_config, environ):
    """The number of retries: ``--retries``, else ``$IDEMCLIENT_RETRIES``,
    else ``idemclient_retries`` in clouds.yaml, else the default. A bad
    value raises ValueError saying which."""
    for value, where in ((option, '--retries'),
                         (environ.get(ENV_VAR), '$' + ENV_VAR),
                         ((cloud_config or {}).get(CLOUDS_YAML_KEY),
                          CLOUDS_YAML_KEY + ' in clouds.yaml')):
        if value is None or value == '':
            continue
        try:
            number = int(str(value).strip())
        except ValueError:
            number = -1
        if not 0 <= number <= MAX_RETRIES:
            raise ValueError('%s must be a whole number from 0 to %d, not '
                             '%r.' % (where, MAX_RETRIES, value))
        return number
    return DEFAULT_RETRIES


def transient_cause(exc):
    """The ``ApiError`` that makes ``exc`` worth another try, or None."""
    for candidate in (exc, exc.__cause__):
        if isinstance(candidate, errors.ApiError) and candidate.transient:
            return candidate
    return None


class Policy:
    """How often and when to try a decision again."""

    def __init__(self, retries=DEFAULT_RETRIES, window=WINDOW_SECONDS,
                 sleep=time.sleep, clock=time.monotonic,
                 jitter=random.random):
        self.retries, self.window = retries, window
        self._sleep, self._clock, self._jitter = sleep, clock, jitter

    def delay(self, retry, retry_after=None):
        """Seconds before retry number ``retry`` (1 for the first): half
        to all of the doubled backoff, at least ``retry_after``."""
        backoff = min(CAP_SECONDS, BASE_SECONDS * 2 ** (retry - 1))
        return max(backoff * (0.5 + self._jitter() / 2), retry_after or 0)

    def run(self, attempt, say, label):
        """``attempt()``'s result, tried again while it fails transiently
        and the bounds allow; ``attempt(sent)`` learns whether an earlier
        try sent the create (its answer lost)."""
        start, sent, tries = self._clock(), False, self.retries + 1
        for number in range(1, tries + 1):
            try:
                return attempt(sent)
            except errors.IdemError as exc:
                cause = transient_cause(exc)
                if cause is None:
                    raise
                sent = sent or getattr(exc, 'sent', False)
                delay = self.delay(number, cause.retry_after)
                if number >= tries or \
                        self._clock() - start + delay > self.window:
                    raise _final(exc, number) from exc
                say('%s: try %d of %d failed (%s); trying again in %.1fs, '
                    'looking the request up first.'
                    % (label, number, tries, cause, delay))
                self._sleep(delay)


def _short(exc):
    return str(exc).rstrip('.')


def _final(exc, tries):
    """The error a transient failure ends the command with: ``Unknown``,
    saying how many tries were made."""
    if isinstance(exc, errors.Unknown):
        text = str(exc)
    else:
        text = ('%s. Run the same command again: it looks the request up '
                'first, and creates nothing twice.' % _short(exc))
    if tries > 1:
        text = 'After %d tries: %s' % (tries, text)
    return errors.Unknown(text, sent=getattr(exc, 'sent', False))
