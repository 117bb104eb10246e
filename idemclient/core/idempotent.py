"""Run one create at most once per key, whatever happens to the client.

The order of events is what makes a retry safe:

1. take the key's lock (concurrent runs on this host take turns);
2. a journal entry with other parameters: refuse; a done entry: show it;
3. record the attempt, synced to disk, and only then anything of it leaves;
4. take the request's reservation (``idemclient.reservations``: Glance's
   client-chosen image id, refused to every other host): another
   attempt's reservation means its resource, waited for and shown; where
   Glance refuses reservations, the create goes on as it did without them
   (one line says so). The marker is looked up on the cloud first: a
   retry from any host that finds it sends no reservation, and reads no
   more than a plain create sends. Found, it is the resource, its
   parameters checked, recorded and shown; found in a race of servers
   that may still change (``Found.final``), it is the holder's when
   another attempt holds the reservation (one GET: a host just after the
   create), else looked up again while the reservation is in flight;
5. send the create. A 4xx: look once more (another host's create may be
   why, e.g. over quota), else nothing was made: mark it failed; no answer
   or a 5xx: leave it pending, the next run's lookup will tell; an answer:
   mark it done and write the outcome on the reservation, or, for a kind
   that settles (servers without a reservation, see ``converge``), leave
   it pending until the winner among hosts is decided.

With reservations off (``--no-reservation``) the lookup comes before step
3 and there is no reservation: what idemclient did before them. With a
coordination backend configured (``coordination``), steps 3 to 5 also
hold a lock shared by every host.

What differs between kinds of resource (how to find, fetch and send) is
a ``Kind``, whose contract is written once in ``idemclient.contract``
(this module only calls it: ``core`` imports nothing above it).
"""

import logging
import time

from idemclient.core import coordination
from idemclient.core import errors
from idemclient.core import failpoints
from idemclient.core import fingerprint as fp
from idemclient.core import journal as journal_mod
from idemclient.core import retry
from idemclient.core import token as tokens

LOG = logging.getLogger(__name__)

# How a request ended, told to the command (``tell``): it sent the create
# that made the resource, or found the resource and sent no create.
CREATED, EXISTED = 'created', 'existed'

# A pending attempt younger than this may still be in flight (sent by a
# client that died): wait for it to land before concluding it never did.
SETTLE_SECONDS = 3.0


class Found:
    """A resource the cloud already has for a request; not ``final`` when
    a race among hosts may still make another the request's (``peek`` of
    a kind that settles)."""

    def __init__(self, result, resource_ids, fingerprint=None, final=True):
        self.result = result
        self.resource_ids = list(resource_ids)
        self.fingerprint = fingerprint  # None: the cloud kept none
        self.final = final


def idem_key(client_token, task_tag):
    """What the journal keys a request by: its token, else its tag."""
    if client_token is not None:
        return 'token:' + client_token
    return 'task:' + task_tag


class Request:
    """What identifies a create and what it asks for."""

    def __init__(self, operation, scope, fingerprint, marker,
                 client_token=None, task_tag=None, target=None):
        self.operation = operation
        self.target = target
        self.scope = scope
        self.fingerprint = fingerprint
        self.marker = marker
        self.client_token = client_token
        self.task_tag = task_tag
        self.idem_key = idem_key(client_token, task_tag)
        if client_token is not None:
            self.label = 'client token %r' % client_token
        else:
            self.label = 'task tag %r' % task_tag

    @classmethod
    def for_create(cls, operation, scope, params, client_token, task_tag,
                   target=None, unordered=()):
        """A create's request: fingerprinted ``params`` (``unordered``
        names those that are sets), and the token's marker (the task
        tag's when it came alone)."""
        if client_token is not None:
            marker = tokens.derive_tag(scope, client_token)
        else:
            marker = tokens.derive_tag(scope, task_tag, prefix='task')
        return cls(operation, scope, fp.Fingerprint.of(params, unordered),
                   marker, client_token, task_tag, target=target)

    @property
    def task_id(self):
        """The journal's id of this request, the same on every host."""
        return journal_mod.entry_id(self.scope.key, self.operation,
                                    self.idem_key)

    def markers(self):
        """What the resource carries: the request's marker, the task tag's
        when a token came too, and the task id's."""
        found = [self.marker]
        if self.task_tag and self.client_token is not None:
            found.append(tokens.derive_tag(self.scope, self.task_tag,
                                           prefix='task'))
        found.append(tokens.id_tag(self.operation, self.task_id))
        return found


def mismatch(request, recorded, where):
    other = fp.Fingerprint.decode(recorded) if isinstance(
        recorded, str) else recorded
    names = request.fingerprint.differences(other) if other else []
    detail = ('; different: %s' % ', '.join(names)) if names else ''
    return errors.Refused(
        '%s was already used %s with other parameters%s. Nothing was sent: '
        'repeat the first command exactly, or use a new token.'
        % (capitalised(request.label), where, detail))


def tell(say, outcome):
    """Tell the command's ``say`` (an ``output.Reporter``) how the request
    ended, for its output; a plain function just keeps it."""
    try:
        say.outcome = outcome
    except AttributeError:  # a bound method or a builtin: nobody asks
        pass


def _already(kind, request, resource_id):
    template = kind.already or (
        '{label}: {noun} {id} was already created; no create was sent.')
    return template.format(label=capitalised(request.label),
                           noun=kind.noun, id=resource_id)


def gone(request, kind, resource_ids):
    """The refusal when the request's resources were deleted since."""
    return errors.Refused(
        '%s created %s %s, which no longer exists. Use a new token to '
        'create another.' % (capitalised(request.label), kind.noun,
                             ', '.join(resource_ids)))


def capitalised(text):
    """``text`` starting a sentence; str.capitalize() would also lower
    the case of the token it quotes."""
    return text[:1].upper() + text[1:]


def run_once(journal_path, request, kind, say, coordination_url=None,
             reservation=None, retries=None):
    """Create through ``kind`` at most once for ``request``; return what
    OSC expects from its create call.

    ``reservation`` (``idemclient.reservations.Reservation``, or None when
    they are off) is taken once the attempt is journaled: only its holder
    sends the create. A kind with a ``settlement`` left after its create
    (a decision still owed) is handed the coordination lock, to release
    once decided. ``retries`` (a ``core.retry.Policy``; None: no retry)
    runs the whole decision again after a transient failure.
    """
    def attempt(sent):
        return _run_once(journal_path, request, kind,
                         _AfterLostAnswer(say) if sent else say,
                         coordination_url, reservation)
    return (retries or retry.Policy(0)).run(attempt, say,
                                            capitalised(request.label))


class _AfterLostAnswer:
    """``say`` for a try after one whose create was sent and lost its
    answer: the resource it finds is what this command created."""

    def __init__(self, say):
        self._say = say

    def __call__(self, message):
        self._say(message)

    @property
    def outcome(self):
        return getattr(self._say, 'outcome', None)

    @outcome.setter
    def outcome(self, value):
        tell(self._say, CREATED if value == EXISTED else value)


def _run_once(journal_path, request, kind, say, coordination_url,
              reservation):
    def waiting():
        say('Waiting for another run with the same %s to finish...'
            % request.label)
    try:
        with journal_mod.Journal.open(journal_path) as journal:
            with journal.lock(request.scope.key, request.operation,
                              request.idem_key, on_wait=waiting):
                held = _coordinate(request, coordination_url, waiting)
                try:
                    result = _run_locked(journal, request, kind, say,
                                         reservation)
                except BaseException:
                    held.release()
                    raise
                if kind.settlement is not None:
                    kind.settlement.hold(held)
                else:
                    held.release()
                return result
    except journal_mod.JournalError as exc:
        raise errors.Refused('%s. Nothing was sent.' % exc)
    except coordination.CoordinationError as exc:
        raise errors.Refused(str(exc))


def _coordinate(request, url, on_wait):
    failpoints.hit('before-lock')
    if not url:
        return coordination.Held(None, None)
    return coordination.acquire(url, coordination.lock_name(
        request.scope.key, request.operation, request.idem_key), on_wait)


def record(journal_path, uuid, resource_ids=None, error=None):
    """Record a decision taken after ``run_once`` returned: the resources
    now known, or the error that leaves nothing of this request."""
    try:
        with journal_mod.Journal.open(journal_path) as journal:
            if error is None:
                journal.mark_done(uuid, resource_ids)
            else:
                journal.mark_failed(uuid, error)
    except journal_mod.JournalError as exc:
        raise errors.Unknown(
            '%s. Run the same command again to record the outcome.' % exc)


def _run_locked(journal, request, kind, say, reservation=None):
    entry = journal.find(request.scope.key, request.operation,
                         request.idem_key)
    # Under the lock, so concurrent runs agree on one generated key.
    secret = kind.bind(entry)
    LOG.debug('%s (%s): journal entry %s', request.label, request.operation,
              '%s, %s' % (entry.uuid, entry.state) if entry else 'none')
    if entry and entry.state != 'failed':
        if fp.Fingerprint.decode(entry.fingerprint) != request.fingerprint:
            raise mismatch(request, entry.fingerprint, 'on this host')
    if entry and entry.state == 'done':
        result = _shown(kind, request, entry, say)
        if result is None:
            raise gone(request, kind, entry.resource_ids)
        return result
    if entry is None and request.scope.region:
        result = _made_before_regions(journal, request, kind, say)
        if result is not None:
            return result

    if reservation is None:
        found = _lookup(kind, request, entry, say)
        if found:
            return _take(journal, request, kind, entry, found, say)
        failpoints.hit('after-lookup')
        attempt = _begin(journal, request, secret)
    else:
        # A retry that finds the resource, on any host, sends no
        # reservation: it reads what a plain create would send.
        found = _lookup(kind, request, entry, say, kind.peek)
        if found and (found.final or entry is None and
                      reservation.anothers()):
            if entry is not None and entry.reservation:
                reservation.resume(entry.reservation)
                reservation.record(found.resource_ids)
            return _take(journal, request, kind, entry, found, say)
        # Journaled first: the reservation carries the entry's nonce.
        attempt = _begin(journal, request, secret)
        # A race not yet settled is looked at again once the reservation
        # tells whether this attempt holds it.
        found = _reserve(journal, request, kind, entry, attempt,
                         reservation, say, looked=not found)
        if found:
            return _take(journal, request, kind, attempt, found, say)
        failpoints.hit('after-lookup')
    return _send(journal, request, kind, attempt, say, reservation)


def _made_before_regions(journal, request, kind, say):
    """A token this host used before scopes had regions: its resource if
    the entry is done and the resource is in this region (a resource id
    is the cloud's own), else None (another region's: a new request)."""
    legacy = journal.find(request.scope.without_region().key,
                          request.operation, request.idem_key)
    if legacy is None or legacy.state != 'done' or \
            fp.Fingerprint.decode(legacy.fingerprint) != request.fingerprint:
        return None
    return _shown(kind, request, legacy, say)


def _shown(kind, request, entry, say):
    """A done entry's resource, said to be already created; None if it
    no longer exists."""
    result = kind.fetch(entry.resource_ids)
    if result is not None:
        say(_already(kind, request, entry.resource_ids[0]))
        tell(say, EXISTED)
    return result


def _begin(journal, request, secret):
    """Journal the attempt, synced, before anything of it is sent."""
    attempt = journal.begin_attempt(
        scope=request.scope, operation=request.operation,
        idem_key=request.idem_key, marker=request.marker,
        fingerprint=request.fingerprint.encode(),
        client_token=request.client_token, task_tag=request.task_tag,
        secret=secret, target=request.target)
    LOG.debug('%s: journaled attempt %d of entry %s (request id %s) in %s',
              request.label, attempt.attempts, attempt.uuid,
              attempt.request_id, journal.path)
    failpoints.hit('after-journal-commit')
    return attempt


def _reserve(journal, request, kind, entry, attempt, reservation, say,
             looked=False):
    """Claim the reservation, and look the marker up meanwhile unless it
    was ``looked`` up already: None when this attempt may create (holding
    it, or with reservations unavailable), else the request's resource
    (``Found``)."""
    try:
        found = reservation.claim(
            attempt, kind, None if looked else
            lambda: _lookup(kind, request, entry, say, kind.peek))
    except errors.Refused as exc:
        if entry is None or entry.state == 'failed':  # nothing of ours out
            journal.mark_failed(attempt.uuid, str(exc))
        raise
    if reservation.held_ids:
        journal.hold_reservation(attempt.uuid,
                                 ' '.join(reservation.held_ids))
    if reservation.held_id is not None:
        kind.racing = False
    elif reservation.unavailable is not None:
        say(fallback_line(kind, reservation.unavailable))
    failpoints.hit('after-reserve')
    return found


def fallback_line(kind, reason):
    """The one line saying what a create without a reservation risks."""
    if kind.settles:
        risk = ('runs from several hosts at the same moment are settled '
                'after their creates instead (a few seconds more)')
    else:
        risk = ('runs from several hosts at the same moment may make two '
                '%ss until reservations are allowed' % kind.noun)
    return 'Reservations are unavailable on this cloud (%s): %s.' % (
        reason.rstrip('.'), risk)


def _send(journal, request, kind, entry, say, reservation):
    """Send the one create of a journaled attempt and record its answer."""
    try:
        result, resource_ids, cloud_request_id = kind.send(entry)
    except errors.ApiError as exc:
        if exc.status_code == 429:  # not now: nothing was made
            journal.mark_failed(entry.uuid, str(exc))
            raise
        if exc.status_code and 400 <= exc.status_code < 500:
            found = _look_again(kind, request)
            LOG.debug('%s: refused (%s); looked again and found %s',
                      request.label, exc,
                      found.resource_ids if found else 'nothing')
            if found:
                if reservation is not None:
                    reservation.record(found.resource_ids)
                return _take(journal, request, kind, entry, found, say)
            journal.mark_failed(entry.uuid, str(exc))
            raise
        raise errors.Unknown(
            'The outcome of the create is unknown (%s). Run the same '
            'command again: it will find out, and create nothing twice.'
            % exc, sent=True) from exc
    failpoints.hit('after-response')
    LOG.debug('%s: created %s (cloud request id %s)', request.label,
              resource_ids if resource_ids is not None else
              'what a later decision records', cloud_request_id)
    tell(say, CREATED)  # a kind that settles may say otherwise later
    if resource_ids is None:  # decided later: see ``record``
        journal.mark_sent(entry.uuid, cloud_request_id)
        return result
    if reservation is not None:
        winner = reservation.settle(kind, resource_ids)
        if winner is not None:  # taken over while paused: the taker's
            journal.mark_done(entry.uuid, winner.resource_ids,
                              cloud_request_id)
            reservation.record(winner.resource_ids)
            tell(say, EXISTED)
            return winner.result
    journal.mark_done(entry.uuid, resource_ids, cloud_request_id)
    if reservation is not None:
        reservation.record(resource_ids)
    return result


def _look_again(kind, request):
    """After a refusal: the request's resource, if another run made it
    (that may be why it was refused); None if nothing clear is found."""
    try:
        return kind.find(request)
    except errors.IdemError:
        return None


def _take(journal, request, kind, entry, found, say):
    """Record and show what the cloud already has for the request."""
    if found.fingerprint is not None and \
            found.fingerprint != request.fingerprint:
        raise mismatch(request, found.fingerprint, 'on the cloud')
    if entry:
        journal.mark_done(entry.uuid, found.resource_ids)
    else:
        journal.adopt(scope=request.scope, operation=request.operation,
                      idem_key=request.idem_key, marker=request.marker,
                      fingerprint=request.fingerprint.encode(),
                      resource_ids=found.resource_ids,
                      client_token=request.client_token,
                      task_tag=request.task_tag, target=request.target)
    say(_already(kind, request, found.resource_ids[0]))
    tell(say, EXISTED)
    return found.result


def _lookup(kind, request, entry, say, find=None):
    """Look the marker up (``kind.find``, or ``find``); give an attempt
    that may be in flight time to land first."""
    find = find or kind.find
    found = find(request)
    if not found and entry is not None and entry.state == 'pending':
        age = time.time() - entry.updated_at
        if 0 <= age < SETTLE_SECONDS:
            say('An earlier attempt was sent %.1fs ago; waiting %.1fs for '
                'it to land...' % (age, SETTLE_SECONDS - age))
            time.sleep(SETTLE_SECONDS - age)
            found = find(request)
    LOG.debug('%s: lookup of marker %s found %s', request.label,
              request.marker, found.resource_ids if found else 'nothing')
    return found
