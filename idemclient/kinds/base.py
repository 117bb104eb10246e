"""What the kinds that wrap an SDK create call share (Cinder's, Neutron's):
the markers go into the create call's own arguments, and the one POST is
guarded (``clients.once``)."""

import importlib
import time

from idemclient.clients import errors
from idemclient import context
from idemclient import contract


class WrappedCreate(contract.Kind):
    """A kind over a service client with ``get``/``guarded_create``;
    subclasses say how the markers ride in the arguments."""

    operation = None    # journal operation, e.g. 'volume.create'
    noun = None         # what the messages call it
    collection = None   # REST collection
    sdk_class = None    # 'openstack.block_storage.v3.volume:Volume'
    create_call = None  # the SDK proxy's create method
    reserves = True     # takes a reservation (``idemclient.reservations``)

    def __init__(self, client, create, kwargs, request):
        self.client = client
        self._create = create
        self._kwargs = kwargs
        self._request = request

    @classmethod
    def sdk(cls, body):
        module, _, name = cls.sdk_class.partition(':')
        return getattr(importlib.import_module(module), name).existing(**body)

    def bind(self, entry):
        return None

    def fetch(self, resource_ids):
        body = self.client.get(self.collection, resource_ids[0])
        return self.sdk(body) if body else None

    def discard(self, resource_id, patience=120.0):
        """Delete it, once the service lets it be deleted (Cinder refuses
        while an item is still ``creating``)."""
        deadline = time.monotonic() + patience
        while True:
            try:
                return self.client.delete(self.collection, resource_id)
            except errors.ApiError as exc:
                if exc.status_code not in (400, 409) or \
                        time.monotonic() > deadline:
                    raise
            time.sleep(1.0)

    @classmethod
    def request_for(cls, scope, kwargs, client_token, task_tag):
        """Fingerprint over what OSC resolved (sizes, source and network
        ids, the user's own metadata, description and tags)."""
        from idemclient.core import idempotent
        return idempotent.Request.for_create(cls.operation, scope, kwargs,
                                             client_token, task_tag,
                                             target=kwargs.get('name'),
                                             unordered=cls.unordered)

    @classmethod
    def run(cls, app, parsed_args, proxy, kwargs, token, task_tag, say,
            make):
        """What a wrapped create call does: the request for ``kwargs`` in
        the caller's scope, and the kind ``make(request)`` gives run once
        (``core.idempotent``) with this command's journal, lock and
        reservation."""
        from idemclient.core import idempotent
        request = cls.request_for(context.scope_of(app, proxy), kwargs,
                                  token, task_tag)
        kind = make(request)
        return idempotent.run_once(
            context.journal_path(app), request, kind, say,
            context.coordination_url(app),
            context.reservation(app, parsed_args, request, say,
                                slot_only=not cls.reserves),
            context.retries(app, parsed_args))

    def marked(self, kwargs):
        """The create call's arguments with the request's markers."""
        raise NotImplementedError

    def send(self, entry):
        kwargs = self.marked(self._kwargs)
        try:
            item, response = self.client.guarded_create(
                lambda: self._create(**kwargs), entry.request_id,
                self._request.client_token)
        except Exception as exc:  # SDK or keystoneauth: translate once
            raise errors.sdk_error(exc)
        return item, [item.id], errors.response_request_id(response)


class Finished(contract.Invocation):
    """Nothing to do after OSC's command (see ``hooks``)."""
