"""A reservation: Glance's client-chosen image id as a compare-and-set that
every OpenStack cloud has (``shared/docs/glance-reservation.md``).

``POST /v2/images`` with an explicit ``id`` inserts the id as the table's
primary key, the properties in the same transaction: a second create of
that id is refused (409) whichever host sends it. A reservation is such an
image, private, hidden from listings and without data, whose id is derived
from whose request it is (scope and region), the operation, the request's
key (token or task tag) and a generation; it carries the attempt's nonce
(the journal's request id) and the operation, and, once the create has
answered, the resource ids (the outcome any host can read with one GET).

A 409 may be one's own earlier POST whose answer was lost: the nonce tells.
A 409 whose id then shows 404 was deleted (a soft delete keeps the id
taken until an operator purges Glance's images table) or belongs to
another project. Glance refusing the create before the insert (403 by
policy, 413 over its quota, no image endpoint) leaves reservations
unavailable: the caller falls back to what it did without them.

``reserve`` decides from Glance's answers only; ``Reservation`` is what
``core.idempotent.run_once`` drives for one create: ``claim`` (hold it,
or wait for another holder's outcome, or take over from a holder that
died), ``settle`` (a holder paused past its lease defers to whoever took
over), ``record`` (the outcome, for every host to read).

Takeover: a reservation older than the lease (Glance's clock: its
``Date`` against the reservation's ``created_at``) with no outcome and no
resource found is superseded by the next generation's. The outcome of the
highest generation is the request's: a holder that was only paused (and
so may have created after all) looks at the next generation once its
create has answered, and, if it was taken over, deletes what it made and
prints the taker's. That is the only path on which two creates leave.
"""

import json
import logging
import os
import threading
import time
import uuid

from idemclient.clients import errors
from idemclient.core import converge
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent

LOG = logging.getLogger(__name__)

# Fixed forever: reservation ids stored by released versions depend on it.
NAMESPACE = uuid.UUID('8a3c2f6e-2a5b-5d47-9c61-6f1d0e7b4a10')
NAME = 'idemclient-reservation'
NONCE_KEY = 'idemclient_nonce'
OPERATION_KEY = 'idemclient_operation'
RESOURCES_KEY = 'idemclient_resources'
FINGERPRINT_KEY = 'idemclient_fingerprint'
TASK_KEY = 'idemclient_task_id'
# A task tag's slots: reservations keyed by the tag alone (the same for
# every operation), one per task carrying the tag, numbered from 0. Each
# carries the tag's key and its number, so that ``task show --tag`` finds
# them all with one listing (slots made before they did: a GET each).
TAG_OPERATION = 'task-tag'
TAG_KEY = 'idemclient_tag'
SLOT_KEY = 'idemclient_slot'
# What a task is about when no marker finds it (a keypair's name, a swap's
# server): the journal entry's target, for ``task show`` on another host.
TARGET_KEY = 'idemclient_target'
MAX_TAGGED = 100
# Glance's answers that mean "no reservations on this cloud for you": a
# policy (403), a schema that does not take ours (400), its quota (413).
UNAVAILABLE_STATUSES = (400, 403, 413)
ENV_VAR = 'IDEMCLIENT_RESERVATIONS'            # "off" turns them off
CLOUDS_YAML_KEY = 'idemclient_reservations'    # false turns them off
LEASE_VAR = 'IDEMCLIENT_RESERVATION_LEASE'
LEASE_KEY = 'idemclient_reservation_lease'
LEASE_SECONDS = 180.0
POLL_SECONDS = 0.5
# While waiting for another holder, look for its resource this often too:
# it may have died between its create and recording the outcome.
LOOKUP_SECONDS = 3.0

HELD = 'held'          # this attempt holds it (created now, or earlier)
OTHERS = 'others'      # another attempt holds it
GONE = 'gone'          # deleted, or another project's: the id is taken
UNAVAILABLE = 'unavailable'


def reservation_id(scope_key, region, operation, idem_key, generation=0):
    """The reservation's id: the same on every host for one request and
    generation, lowercase (Glance accepts uppercase hex as another id)."""
    name = '\0'.join((scope_key, region or '', operation, idem_key,
                      str(generation)))
    return str(uuid.uuid5(NAMESPACE, name))


class Decision:
    """What Glance said of a reservation: ``state`` (``HELD``, ``OTHERS``,
    ``GONE``, ``UNAVAILABLE``), the reservation's body where one was read,
    and why reservations are unavailable."""

    def __init__(self, state, body=None, reason=None, fresh=False,
                 date=None):
        self.state, self.body, self.reason = state, body, reason
        self.fresh = fresh  # held by this very POST (a 201)
        self.date = date    # Glance's clock when the body was read

    @property
    def resource_ids(self):
        """The outcome its holder recorded, or None (not yet, or never)."""
        return resource_ids_of(self.body)


def resource_ids_of(body):
    text = (body or {}).get(RESOURCES_KEY)
    if not text:
        return None
    try:
        ids = json.loads(text)
    except ValueError:
        return None
    return ids if isinstance(ids, list) and ids else None


def reserve(images, rid, nonce, operation, fingerprint=None, extra=None):
    """Try to hold reservation ``rid`` for the attempt ``nonce``.

    ``images`` is an ``ImageClient`` (or None: no image endpoint). Sends
    one POST, and one GET after a 409."""
    if images is None:
        return Decision(UNAVAILABLE, reason='the cloud has no image service')
    body = {'id': rid, 'name': NAME, 'visibility': 'private',
            'os_hidden': True, 'container_format': 'bare',
            'disk_format': 'raw', NONCE_KEY: nonce,
            OPERATION_KEY: operation}
    if fingerprint is not None:
        body[FINGERPRINT_KEY] = fingerprint
    body.update(extra or {})
    try:
        return Decision(HELD, images.create(body), fresh=True)
    except errors.ApiError as exc:
        if exc.status_code in UNAVAILABLE_STATUSES:
            return Decision(UNAVAILABLE, reason='the image service answered '
                            'HTTP %d: %s' % (exc.status_code, _after_colon(
                                exc.message)))
        if exc.status_code is None and 'endpoint' in str(exc).lower():
            return Decision(UNAVAILABLE,
                            reason='the cloud has no image service')
        if exc.status_code != 409:
            raise
    existing, date = images.get_dated(rid)
    if existing is None:
        return Decision(GONE)
    if existing.get(NONCE_KEY) == nonce:
        return Decision(HELD, existing, date=date)
    return Decision(OTHERS, existing, date=date)


def record(images, rid, resource_ids):
    """Write the outcome on a held reservation: the resource ids."""
    images.set_property(rid, RESOURCES_KEY, outcome_text(resource_ids))


def outcome_text(resource_ids):
    """The outcome as a reservation carries it (``resource_ids_of``)."""
    return json.dumps(list(resource_ids))


def tag_slot_id(scope_key, region, tag, number):
    """The id of a task tag's slot ``number``."""
    return reservation_id(scope_key, region, TAG_OPERATION, 'tag:' + tag,
                          number)


def tag_key(scope_key, region, tag):
    """What a task tag's slots carry to be listed together (``TAG_KEY``):
    derived, so the tag's own text is not stored."""
    return reservation_id(scope_key, region, TAG_OPERATION, 'tag:' + tag,
                          'listed')


def tagged(images, scope_key, region, tag):
    """The bodies of the tasks carrying ``tag``, in the order they were
    sent: one listing; where it finds none, a GET per slot made before
    slots were listed, and one past the last."""
    listed = images.with_property(TAG_KEY, tag_key(scope_key, region, tag),
                                  hidden=True)
    if listed:
        return sorted(listed, key=_slot_number)
    found = []
    for number in range(MAX_TAGGED):
        body = images.get(tag_slot_id(scope_key, region, tag, number))
        if body is None:
            break
        found.append(body)
    return found


def _slot_number(body):
    try:
        return int(body.get(SLOT_KEY))
    except (TypeError, ValueError):
        return MAX_TAGGED


def enabled(option, cloud_config, environ=None):
    """Whether creates reserve: not with ``--no-reservation``,
    ``$IDEMCLIENT_RESERVATIONS=off`` or ``idemclient_reservations: false``
    in clouds.yaml."""
    environ = os.environ if environ is None else environ
    if option:
        return False
    if environ.get(ENV_VAR, '').strip().lower() in ('off', '0', 'false',
                                                    'no'):
        return False
    value = (cloud_config or {}).get(CLOUDS_YAML_KEY, True)
    return str(value).strip().lower() not in ('off', '0', 'false', 'no')


def lease_seconds(cloud_config, environ=None):
    """How old a reservation with no outcome must be to be taken over:
    ``$IDEMCLIENT_RESERVATION_LEASE``, else clouds.yaml's
    ``idemclient_reservation_lease``, else 180 s."""
    environ = os.environ if environ is None else environ
    value = environ.get(LEASE_VAR) or (cloud_config or {}).get(
        LEASE_KEY) or LEASE_SECONDS
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1
    if not 1 <= seconds <= 86400:
        raise ValueError('Invalid reservation lease %r: give a number of '
                         'seconds from 1 to 86400.' % (value,))
    return seconds


def _age(body, date):
    """The reservation's age on Glance's clock; 0 when it cannot tell."""
    created = converge.epoch((body or {}).get('created_at'))
    if created is None or date is None:
        return 0.0
    return max(0.0, date - created)


class Reservation:
    """One create's reservation, as ``core.idempotent.run_once`` uses it
    (see the module's docstring). ``held_id`` is the reservation this
    attempt holds, None when it holds none; ``unavailable`` says why
    reservations cannot be used, None when they can."""

    def __init__(self, images, request, region, lease=LEASE_SECONDS,
                 say=lambda message: None, sleep=time.sleep,
                 monotonic=time.monotonic, slot_only=False, detach=None):
        self.images = images
        # A request the cloud refuses twice on its own (an image's id, a
        # key's name) takes only its task tag's slot: ``task show --tag``
        # finds every task with a tag there.
        self.slot_only = slot_only
        self.request = request
        self.region = region or ''
        self.lease = lease
        self.say = say
        self._sleep, self._monotonic = sleep, monotonic
        self.held_id = None
        self.slot_id = None  # the task tag's slot this attempt holds
        self._recording = None
        self.generation = None
        self.unavailable = None
        self._held_since = None  # local monotonic time the hold began
        # How the outcome is written when nobody waits for it: ``detach``
        # (``clients.later.spawn``: another process sends its calls),
        # else a thread.
        self._detach = detach

    def rid(self, generation):
        return reservation_id(self.request.scope.key, self.region,
                              self.request.operation,
                              self.request.idem_key, generation)

    def claim(self, entry, kind, lookup):
        """After the attempt was journaled: None when this attempt may
        create (it holds the reservation and the marker was not found, or
        reservations are unavailable), or ``idempotent.Found``: the
        request's resource. Refuses a token whose reservation was deleted.

        ``lookup()`` is the marker lookup (``Found`` or None), which the
        holder needs before it creates (a token used without a
        reservation): it runs while the first reservation request is in
        flight, so a first run waits for one of the two, not both. None:
        the caller looked already (``kind.peek``, found nothing).
        """
        if self.slot_only:
            found = lookup() if lookup else None
            if found is None and self.request.task_tag is not None:
                self._claim_slot(entry)
            return found
        decision, found = self._reserve_while(entry, 0, lookup)
        generation = 0
        while True:
            rid = self.rid(generation)
            if decision.state == UNAVAILABLE:
                self.unavailable = decision.reason
                # Hosts may race without one: a kind that settles does;
                # and nothing else tells other parameters (``peek`` may
                # not see them).
                return kind.find(self.request) if (
                    found and kind.settles) or lookup is None else found
            if decision.state == GONE:
                return found or self._gone(kind, rid)
            if decision.state == HELD:
                self.held_id, self.generation = rid, generation
                if self.request.task_tag is not None:
                    self._claim_slot(entry)
                if decision.resource_ids:  # recorded by an earlier run
                    return self._outcome(kind, decision.body)
                if found is not None:
                    if kind.settles:  # made without a reservation: a race?
                        found = kind.find(self.request)
                    self.record(found.resource_ids, wait=True)
                return found
            self._check(decision.body)
            if found is not None:  # the holder's resource, or an older one
                return found
            found = self._wait(kind, rid, decision.body, decision.date)
            if found is not None:
                return found
            generation += 1
            self.say('The run that reserved the %s made nothing in %.0fs: '
                     'taking over.' % (self.request.label, self.lease))
            decision, found = self._reserve_while(entry, generation, lookup)

    def anothers(self):
        """Whether another attempt holds the request's first reservation
        (one GET, no POST): a resource found that may still change (a
        young server) is then that attempt's, as ``claim`` would conclude
        after a refused POST. Other parameters there are refused. False
        when it cannot tell (none, or Glance does not answer): ``claim``
        then decides."""
        if self.slot_only or self.images is None:
            return False
        try:
            body = self.images.get(self.rid(0))
        except errors.ApiError as exc:
            LOG.debug('Could not read reservation %s: %s', self.rid(0), exc)
            return False
        if body is None:
            return False
        self._check(body)
        return True

    def _reserve_while(self, entry, generation, lookup):
        """(``Decision`` of reserving ``generation``, what ``lookup()``
        found meanwhile)."""
        rid = self.rid(generation)
        started = self._monotonic()
        answer = {}
        lookup = lookup or (lambda: None)

        def reserve_it():
            try:
                answer['decision'] = reserve(
                    self.images, rid, entry.nonce, self.request.operation,
                    self.request.fingerprint.encode())
            except BaseException as exc:  # raised in the caller's thread
                answer['error'] = exc
        sending = threading.Thread(target=reserve_it, daemon=True)
        sending.start()
        try:
            found = lookup()
        finally:
            sending.join()
        error = answer.get('error')
        if isinstance(error, errors.ApiError):
            raise errors.Unknown(
                'Reserving the %s failed (%s). Nothing was created: run '
                'the same command again.' % (self.request.label, error)) \
                from error
        if error is not None:
            raise error
        decision = answer['decision']
        LOG.debug('%s: reservation %s (generation %d): %s',
                  self.request.label, rid, generation, decision.state)
        if decision.state == HELD:
            # Held since an earlier run of this host: as if for a lease
            # already (its create then checks for a taker).
            self._held_since = started - (0.0 if decision.fresh
                                          else self.lease)
        return decision, found

    def resume(self, held):
        """Hold again what an earlier run of this attempt held (the
        journal's space-separated ids), to record its outcome there."""
        ids = (held or '').split()
        if self.slot_only:
            ids.insert(0, None)
        self.held_id = ids[0] if ids else None
        self.slot_id = ids[1] if len(ids) > 1 else None

    @property
    def held_ids(self):
        """The reservations this attempt holds: its own, and its task
        tag's slot."""
        return [rid for rid in (self.held_id, self.slot_id) if rid]

    def _claim_slot(self, entry):
        """Take the first free slot of the task tag (or this attempt's
        own, from an earlier run): what ``task show --tag`` reads. Best
        effort: without one, a task is still found by its marker."""
        for number in range(MAX_TAGGED):
            sid = tag_slot_id(self.request.scope.key, self.region,
                              self.request.task_tag, number)
            try:
                decision = reserve(self.images, sid, entry.nonce,
                                   self.request.operation,
                                   extra=self._slot_properties(
                                       entry, number))
            except errors.ApiError as exc:
                LOG.debug('No slot for task tag %r: %s',
                          self.request.task_tag, exc)
                return
            if decision.state == HELD:
                self.slot_id = sid
                return
            if decision.state == UNAVAILABLE:
                return

    def _slot_properties(self, entry, number):
        properties = {TASK_KEY: entry.uuid, SLOT_KEY: str(number),
                      TAG_KEY: tag_key(self.request.scope.key, self.region,
                                       self.request.task_tag)}
        if self.request.target:
            properties[TARGET_KEY] = str(self.request.target)
        return properties

    def _check(self, body):
        """Another attempt's reservation: refuse other parameters."""
        recorded = fp.Fingerprint.decode(body.get(FINGERPRINT_KEY))
        if recorded is not None and recorded != self.request.fingerprint:
            raise idempotent.mismatch(self.request, recorded, 'on the cloud')

    def _gone(self, kind, rid):
        found = kind.find(self.request)
        if found is not None:
            return found
        raise errors.Refused(
            '%s is bound to reservation %s, which was deleted (or belongs '
            'to another project): it stays taken until the cloud\'s '
            'operator purges deleted images. Nothing was sent: use a new '
            'token.' % (idempotent.capitalised(self.request.label), rid))

    def _outcome(self, kind, body):
        ids = resource_ids_of(body)
        result = kind.fetch(ids)
        if result is None:
            raise idempotent.gone(self.request, kind, ids)
        recorded = fp.Fingerprint.decode(body.get(FINGERPRINT_KEY))
        return idempotent.Found(result, ids, recorded)

    def _wait(self, kind, rid, body, date):
        """Another attempt holds ``rid``: its outcome once recorded, the
        resource once found, or None when its lease ran out with nothing
        made (take over)."""
        told, looked = False, self._monotonic()  # claim just looked
        while True:
            if resource_ids_of(body):
                return self._outcome(kind, body)
            now = self._monotonic()
            if now - looked >= LOOKUP_SECONDS:
                looked = now
                found = kind.peek(self.request)
                if found is not None:
                    return found
            # Glance's clock; the local one if it sent no Date.
            if _age(body, date if date is not None else time.time()) >= \
                    self.lease:
                return None
            if not told:
                self.say('Another run with the same %s is creating the %s; '
                         'waiting for it (taken over if it made nothing '
                         'within %.0fs)...' % (self.request.label, kind.noun,
                                               self.lease))
                told = True
            self._sleep(POLL_SECONDS)
            body, date = self.images.get_dated(rid)
            if body is None:
                return self._gone(kind, rid)

    def settle(self, kind, resource_ids):
        """After this holder's create answered: None if its resources are
        the request's, else ``Found`` of the next generation's (this
        attempt was taken over while paused: its own were deleted)."""
        if self.held_id is None or resource_ids is None:
            return None
        held_for = self._monotonic() - self._held_since
        if held_for < self.lease / 2:
            return None  # nobody can have taken over yet
        rid = self.rid(self.generation + 1)
        body, _ = self.images.get_dated(rid)
        deadline = self._monotonic() + self.lease
        if body is not None and not resource_ids_of(body):
            self.say('This run was paused past its reservation\'s lease and '
                     'another run took over; waiting for its outcome...')
        while body is not None and not resource_ids_of(body):
            if self._monotonic() > deadline:
                raise errors.Unknown(
                    'This run was paused past its reservation\'s lease, and '
                    'the run that took over recorded no outcome. Run the '
                    'same command again.')
            self._sleep(POLL_SECONDS)
            body, _ = self.images.get_dated(rid)
        winners = resource_ids_of(body)
        if winners is None or set(winners) == set(resource_ids):
            return None
        for resource_id in resource_ids:
            self.say('Deleting %s %s: a run that took over the %s created %s '
                     '%s.' % (kind.noun, resource_id, self.request.label,
                              kind.noun, winners[0]))
            kind.discard(resource_id)
        return self._outcome(kind, body)

    def record(self, resource_ids, wait=False):
        """Write the outcome on the held reservations; a failure costs
        other hosts a lookup, not the create. Unless ``wait``, written
        while the command goes on (OSC shows the new resource): by a
        detached process the command does not wait for, where it was
        given one (``detach``), else by a thread the process ends after
        (not a daemon)."""
        def write():
            for rid in self.held_ids:
                try:
                    record(self.images, rid, resource_ids)
                except Exception as exc:  # never the command's failure
                    LOG.debug('Could not record the outcome on '
                              'reservation %s: %s', rid, exc)

        if wait or not self.held_ids:
            return write()
        if self._detach is not None and self._handed_over(resource_ids):
            return
        self._recording = threading.Thread(target=write)
        self._recording.start()

    def _handed_over(self, resource_ids):
        """Whether another process took the outcome to write; never the
        command's failure (a thread writes it otherwise)."""
        try:
            taken = self._detach([self.images.set_property_later(
                rid, RESOURCES_KEY, outcome_text(resource_ids))
                for rid in self.held_ids])
        except Exception as exc:
            LOG.debug('Could not hand the outcome over: %s', exc)
            return False
        if taken:
            LOG.debug('%s: the outcome is written on reservation %s by a '
                      'detached process', self.request.label,
                      ' '.join(self.held_ids))
        return bool(taken)

    def recorded(self):
        """Wait until the outcome is written (tests, takeover checks)."""
        if self._recording is not None:
            self._recording.join()


def _after_colon(message):
    """The cloud's own words in an ``ApiError`` message."""
    return message.split(': ', 1)[-1].split(' (HTTP ')[0]
