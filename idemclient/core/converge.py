"""Settle-then-decide: one server per client token, even when several hosts
send the same token at the same moment.

Nova has no uniqueness check a client can use for servers, so two hosts that
both miss the lookup both create one. Every participant then lists the
token's tag and takes the winner W = the attempt whose oldest server is
min(``created``, ``id``); W is final only once Nova's own clock (the list's
``Date`` header) is at least D seconds past ``created(W)``. From then on no
server that appears later can sort before W (it was inserted later, on a
clock synced with this one), so every host computes the same W, nobody ever
deletes it, and deleting the other servers never changes it. Why "earliest
``created`` wins" decided at once is not enough (a same-second tie, a third
run in the window, clock skew) is in ``shared/docs/cross-host-race.md``.

Servers are grouped by their per-attempt tag, so a ``--min/--max`` create
wins or loses as a whole, and a host knows which servers are its own even
when its response was lost. Pure logic: the listing and sleeping are given.
"""

import datetime
import email.utils
import os
import time

ENV_VAR = 'IDEMCLIENT_SETTLE_SECONDS'
DEFAULT_SECONDS = 3.0
# A non-winner older than D plus this was left by a run that died before
# deleting it: any later run removes it (no correct run ever printed it).
GRACE_SECONDS = 30.0
# Past D, how long to keep waiting on an undecidable listing (a cell that
# is down, a server whose ``created`` is ahead of the list's clock).
PATIENCE_SECONDS = 60.0
ATTEMPT_PREFIX = 'idem-at-'


class Undecided(Exception):
    """No final winner could be seen in time; nothing was deleted."""


def seconds_from(value, environ=None):
    """D from an option value, else ``$IDEMCLIENT_SETTLE_SECONDS``, else 3.
    0 turns the settle step off (unsafe across hosts)."""
    environ = os.environ if environ is None else environ
    if value is None:
        value = environ.get(ENV_VAR) or DEFAULT_SECONDS
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1
    if not 0 <= seconds <= 3600:
        raise ValueError('Invalid settle time %r: give a number of seconds '
                         'from 0 to 3600.' % (value,))
    return seconds


def attempt_tag(request_id):
    """The tag of one attempt, from the request id the journal recorded."""
    return ATTEMPT_PREFIX + request_id.replace('req-', '').replace('-', '')


def epoch(text):
    """Seconds since the epoch from Nova's ``created`` (ISO 8601, UTC)."""
    if not text:
        return None
    text = text.replace('Z', '').split('.')[0].split('+')[0]
    try:
        return datetime.datetime.fromisoformat(text).replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return None


def http_date(text):
    """Seconds since the epoch from an HTTP ``Date`` header."""
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None


class Listing:
    """Servers carrying the token's tag, and Nova's clock when it listed
    them (None if the answer had no ``Date``: the local clock is used)."""

    def __init__(self, servers, date=None):
        self.servers = list(servers)
        self.date = date if date is not None else time.time()


def _attempt(server):
    return next((t for t in server.get('tags') or []
                 if t.startswith(ATTEMPT_PREFIX)), None)


def _order(server):
    return (epoch(server.get('created')) or float('inf'),
            server.get('name') or '', server['id'])


def ordered(servers):
    """Oldest first; a multi-create's by name (-1, -2...) within a second."""
    return sorted(servers, key=_order)


def groups(servers):
    """Servers by attempt, the winning attempt first; each group sorted.
    Servers without an attempt tag (made by an idemclient before 2) are one
    group: a --max create of theirs must not lose its own members."""
    by_attempt = {}
    for server in servers:
        by_attempt.setdefault(_attempt(server), []).append(server)
    ordered = [sorted(g, key=_order) for g in by_attempt.values()]
    return sorted(ordered, key=lambda g: (_order(g[0])[0], g[0]['id']))


class Decision:
    """The final winner of a listing, and what may be deleted."""

    def __init__(self, listing, d, own_attempts=()):
        ranked = groups(listing.servers)
        self.listing = listing
        self.winners = ranked[0] if ranked else []
        own = set(own_attempts)
        self.own_losers, self.stale_losers = [], []
        for group in ranked[1:]:
            for server in group:
                if _attempt(server) in own:
                    self.own_losers.append(server)
                elif self.age(server) >= d + GRACE_SECONDS:
                    self.stale_losers.append(server)

    def age(self, server):
        created = epoch(server.get('created'))
        return self.listing.date - created if created is not None else 0.0

    @property
    def winner_ids(self):
        return [s['id'] for s in self.winners]


def wait_needed(listing, d):
    """Seconds to wait before this listing's winner is final; 0: final."""
    if not listing.servers:
        return 0.0
    if any((s.get('status') or '').upper() == 'UNKNOWN'
           for s in listing.servers):
        return 1.0  # a down cell may hide an older server
    first = groups(listing.servers)[0][0]
    created = epoch(first.get('created'))
    if created is None:
        return 1.0
    return max(0.0, d - (listing.date - created))


def settle(list_servers, d, own_attempts=(), listing=None, say=None,
           sleep=time.sleep, monotonic=time.monotonic):
    """List (``list_servers()`` returns a ``Listing``) until the winner is
    final; the ``Decision``. With ``d == 0`` the first listing decides."""
    listing = listing if listing is not None else list_servers()
    deadline = monotonic() + d + PATIENCE_SECONDS
    told = False
    while d > 0:
        wait = wait_needed(listing, d)
        if wait <= 0:
            break
        if monotonic() + wait > deadline:
            raise Undecided(
                'No final winner among the %d servers with this token after '
                '%.0fs (a cell may be down, or the clocks of the compute API '
                'disagree). Nothing was deleted: run the same command again.'
                % (len(listing.servers), d + PATIENCE_SECONDS))
        if say and not told:
            say('Waiting %.1fs for other runs with this token to show up '
                'before deciding which server is the one...' % wait)
            told = True
        sleep(wait + 0.05)
        listing = list_servers()
    return Decision(listing, d, own_attempts)
