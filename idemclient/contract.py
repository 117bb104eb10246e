"""The Kind contract: what every kind of request provides, in one place.

A kind owns both sides of its requests, and ``core.registry`` names both
(``module`` and ``tasks``):

The create side, for one command. The kind module's ``install(app,
parsed_args, token, task_tag, say)`` wraps OSC's create call
(``wrapping.wrap``) and returns an ``Invocation``; the wrapped call hands a
``Kind`` to ``core.idempotent.run_once``, which drives it:

    bind(entry)      the journal entry of the request (or None) before
                     anything is decided; returns a secret to journal
                     with the attempt (a generated private key) or None
    find(request)    the resource the cloud has for the request's marker,
                     as ``idempotent.Found``, or None
    peek(request)    the same, looked at only: no wait, no delete (a race
                     a kind settles is settled by ``find``); find's by
                     default
    fetch(ids)       the resource a done entry recorded, or None if gone
    send(entry)      the one create, carrying the request's markers in the
                     create request itself: (result, resource ids or None
                     when a decision is still owed, the cloud's request id)
    discard(id)      delete one resource this attempt made that is not the
                     request's (a holder paused past its reservation's
                     lease, taken over: ``reservations``)
    already          the message when the resource was found (a template
                     of ``label``, ``noun``, ``id``), or None: the default
    settlement       a decision ``send`` still owes (servers racing), whose
                     ``hold`` takes the coordination lock; None if none
    racing           set by ``run_once`` before ``send``: whether other
                     hosts may send the same create at this moment (no
                     reservation held); a kind that settles does so then
    settles          whether it settles a race after its create (servers)

``Invocation.after`` is what is left once OSC's command has run (decide a
race, hand over a kept private key).

The observe side, ``Tasks``: one object per family of kinds, with no
state, given the cloud's clients (``Clients``). It tells a task's state
from one journal entry (``observe``), finds from any host the tasks that
a task tag's or a task id's marker is on (``by_tag``, ``by_id``), and
reconciles many pending entries at once for ``task resume``
(``reconcile``). The task model (``idemclient.tasks``) names no service:
it asks the family the registry gives for an entry's operation.
"""

import abc

from idemclient.observation import Observation


class Kind(abc.ABC):
    """The create side of one request (see the module's docstring)."""

    noun = None
    already = None
    settlement = None
    racing = True
    settles = False
    # The create's parameters that are sets, compared as sets.
    unordered = ()

    @abc.abstractmethod
    def bind(self, entry):
        """The secret to journal with the attempt, or None."""

    @abc.abstractmethod
    def find(self, request):
        """``idempotent.Found`` for the request's marker, or None."""

    @abc.abstractmethod
    def fetch(self, resource_ids):
        """What the command prints for recorded resources; None: gone."""

    @abc.abstractmethod
    def send(self, entry):
        """(result, resource ids or None, cloud request id)."""

    def discard(self, resource_id):
        """Delete a resource of this attempt's that lost (see above)."""
        raise NotImplementedError

    def peek(self, request):
        """``find`` without waiting or deleting anything."""
        return self.find(request)


class Invocation:
    """One hooked command's kind at work; ``after`` ends it."""

    def after(self, parsed_args, return_code):
        return return_code


class Clients:
    """The cloud's HTTP clients (``idemclient.clients``) a family of tasks
    may use. Each is given as a callable that makes it, called on first
    use: a task may need none of a service, and a cloud may lack it. A
    service not given has no tasks here (its client is None)."""

    SERVICES = ('compute', 'volumes', 'network', 'images', 'load_balancer')

    def __init__(self, **factories):
        unknown = set(factories) - set(self.SERVICES)
        if unknown:
            raise TypeError('unknown services: %s' % ', '.join(unknown))
        self._factories = factories
        self._made = {}

    @classmethod
    def made(cls, **clients):
        """Clients already made (the tests' way)."""
        return cls(**{service: (lambda c=client: c)
                      for service, client in clients.items()
                      if client is not None})

    def __getattr__(self, service):
        """``compute``, ``volumes``, ``network``, ``images``,
        ``load_balancer``: the client,
        made on first use; None for a service not given."""
        if service not in self.SERVICES:
            raise AttributeError(service)
        if service not in self._made:
            factory = self._factories.get(service)
            self._made[service] = factory() if factory else None
        return self._made[service]

    def has(self, service):
        """Whether this service was given at all."""
        return self._factories.get(service) is not None


class Tasks(abc.ABC):
    """The observe side of a family of kinds (see the module docstring)."""

    # Whether a task with no resource found shows the journal's target
    # as its resource (a swap's server).
    target_is_resource = False

    @abc.abstractmethod
    def observe(self, entry, clients):
        """The task state of one journal entry; None: no trace (yet)."""

    def by_tag(self, clients, scope, tag):
        """[(operation, observation, task id or None)] of the tasks whose
        resources carry the marker of task tag ``tag`` in ``scope``, as
        only the cloud knows them."""
        return []

    def by_id(self, clients, scope, task_id):
        """[] or [(operation, observation, task id)]: the task whose
        resource carries this task id."""
        return []

    def reconcile(self, clients, entries, settle_seconds, say,
                  progress=None):
        """{entry uuid: observation or None} for pending entries, as
        ``task resume`` needs them: what a run of the same command would
        find (and, for racing servers, decide). Each entry alone unless a
        family can do better."""
        return {entry.uuid: self.observe(entry, clients)
                for entry in entries}


class FoundByMarker(Tasks):
    """The rule most families share: a failed entry shows its error; a
    done entry whose resource is gone was deleted; otherwise the resource
    is found by the entry's marker (nothing yet: None) and its body
    judged."""

    def observe(self, entry, clients):
        if entry.state == 'failed':
            return Observation('failed', entry.resource_ids, entry.error)
        if entry.state == 'done':
            body = self.get(clients, entry)
            if body is None:
                return Observation('deleted', entry.resource_ids)
        else:
            body = self.marked(clients, entry)
            if body is None:
                return None
        return self.judge(clients, entry, body)

    @abc.abstractmethod
    def get(self, clients, entry):
        """The body of the resource a done entry recorded, or None."""

    @abc.abstractmethod
    def marked(self, clients, entry):
        """The body of the resource carrying the entry's marker, or None."""

    @abc.abstractmethod
    def judge(self, clients, entry, body):
        """The observation of the entry's resource, from its body."""
