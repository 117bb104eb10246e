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

This module decides from Glance's answers only; what to do with the
decision (create, wait for another holder, fall back) is the caller's.
"""

import json
import uuid

from idemclient.clients import errors

# Fixed forever: reservation ids stored by released versions depend on it.
NAMESPACE = uuid.UUID('8a3c2f6e-2a5b-5d47-9c61-6f1d0e7b4a10')
NAME = 'idemclient-reservation'
NONCE_KEY = 'idemclient_nonce'
OPERATION_KEY = 'idemclient_operation'
RESOURCES_KEY = 'idemclient_resources'
# Glance's answers that mean "no reservations on this cloud for you".
UNAVAILABLE_STATUSES = (403, 413)

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

    def __init__(self, state, body=None, reason=None):
        self.state, self.body, self.reason = state, body, reason

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


def reserve(images, rid, nonce, operation):
    """Try to hold reservation ``rid`` for the attempt ``nonce``.

    ``images`` is an ``ImageClient`` (or None: no image endpoint). Sends
    one POST, and one GET after a 409."""
    if images is None:
        return Decision(UNAVAILABLE, reason='the cloud has no image service')
    body = {'id': rid, 'name': NAME, 'visibility': 'private',
            'os_hidden': True, 'container_format': 'bare',
            'disk_format': 'raw', NONCE_KEY: nonce,
            OPERATION_KEY: operation}
    try:
        return Decision(HELD, images.create(body))
    except errors.ApiError as exc:
        if exc.status_code in UNAVAILABLE_STATUSES:
            return Decision(UNAVAILABLE, reason=str(exc))
        if exc.status_code != 409:
            raise
    existing = images.get(rid)
    if existing is None:
        return Decision(GONE)
    if existing.get(NONCE_KEY) == nonce:
        return Decision(HELD, existing)
    return Decision(OTHERS, existing)


def record(images, rid, resource_ids):
    """Write the outcome on a held reservation: the resource ids."""
    images.set_property(rid, RESOURCES_KEY, json.dumps(list(resource_ids)))


def read(images, rid):
    """The reservation's body, or None (never made, deleted, not ours)."""
    return images.get(rid)
