"""Neutron's networks, ports, routers, security groups and floating IPs as
kinds: one base, a class attribute per difference (``kinds.network``...).

Neutron takes tags in a create request only for ports, and only where the
``tag-ports-during-bulk-creation`` extension is on (elsewhere it accepts
and drops them); OSC asks the same question, and its answer is shared.
Tagged ports carry the markers as tags. Everything else carries them at
the end of its ``description``, stored in the same transaction as the
resource, after any text of the user's own::

    web tier [idem k=<16 hex> g=<16 hex> t=<32 hex> p=<32 hex>]

``k``: the request's marker, hashed; ``g``: the task tag's, when a token
came too; ``t``: the task id; ``p``: the parameters' digest. Neutron
matches descriptions only exactly. The same request's create carries
the same description, so a lookup first asks for it exactly (``peek``:
one short answer, whatever the project holds); the thorough lookup
(``find``: a resource made with other parameters, or whose text was
edited since) lists the project's items of the kind, whole, and matches
the marker here.
"""

import hashlib
import re


from idemclient.clients import errors
from idemclient.clients import network as network_api
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent
from idemclient.core import token as tokens
from idemclient.kinds import base
from idemclient import wrapping

DESCRIPTION_LIMIT = 255  # Neutron's
FINGERPRINT_TAG = 'idem-fp-'
_MARK = re.compile(r'(?:^| )\[idem k=(?P<k>[0-9a-f]{16})'
                   r'(?: g=(?P<g>[0-9a-f]{16}))? t=(?P<t>[0-9a-f]{32}) '
                   r'p=(?P<p>[0-9a-f]{32})\]$')


def short(marker):
    """How a marker is written in a description: 64 bits of its hash."""
    return hashlib.sha256(marker.encode()).hexdigest()[:16]


def mark_text(request):
    """The ``[idem ...]`` text a description ends with."""
    words = ['k=' + short(request.marker)]
    if request.task_tag and request.client_token is not None:
        words.append('g=' + short(tokens.derive_tag(
            request.scope, request.task_tag, prefix='task')))
    words += ['t=' + request.task_id.replace('-', ''),
              'p=' + request.fingerprint.digest]
    return '[idem %s]' % ' '.join(words)


class Marks:
    """What an item carries, as tags or in its description."""

    def __init__(self, item, operation):
        tags = item.get('tags') or []
        self.keys = set(tags)
        self.task_id = tokens.task_id_of(tags, operation)
        self.digest = next((t[len(FINGERPRINT_TAG):] for t in tags
                            if t.startswith(FINGERPRINT_TAG)), None)
        found = _MARK.search(item.get('description') or '')
        if found:
            self.keys |= {found.group('k'), found.group('g')} - {None}
            hexa = found.group('t')
            self.task_id = self.task_id or '%s-%s-%s-%s-%s' % (
                hexa[:8], hexa[8:12], hexa[12:16], hexa[16:20], hexa[20:])
            self.digest = self.digest or found.group('p')

    def carry(self, marker):
        return marker in self.keys or short(marker) in self.keys


def listed(client, collection, project_id, keep, tag=None):
    """Items of one kind that ``keep`` accepts, whole, oldest first: among
    those tagged ``tag``, else among the project's."""
    if tag is not None:
        return oldest_first(client.listed(collection, {'tags': tag}, keep))
    return oldest_first(client.listed(collection,
                                      {'project_id': project_id}, keep))


def oldest_first(items):
    return sorted(items, key=lambda item: (item.get('created_at') or '',
                                           item['id']))


class NeutronKind(base.WrappedCreate):
    """What differs between the kinds is class attributes; ``collection``
    is the REST path (``security-groups``)."""

    tags_extension = None  # the extension that lets its create carry tags
    create_only_fields = ()  # what Neutron answers a create but no show

    def __init__(self, client, create, kwargs, request, tagged):
        super().__init__(client, create, kwargs, request)
        self._tagged = tagged

    @classmethod
    def marked_kwargs(cls, kwargs, request, tagged):
        """The create's arguments with the markers added; a description
        with no room for them is refused before anything is sent."""
        kwargs = dict(kwargs)
        if tagged:
            kwargs['tags'] = list(kwargs.get('tags') or []) + \
                request.markers() + [FINGERPRINT_TAG +
                                     request.fingerprint.digest]
            return kwargs
        own, mark = kwargs.get('description') or '', mark_text(request)
        room = DESCRIPTION_LIMIT - len(mark) - 1
        if len(own) > room:
            raise errors.Refused(
                'The description is %d characters long; with %s, idemclient '
                'adds its marker to it and at most %d fit. Nothing was sent.'
                % (len(own), request.label, room))
        kwargs['description'] = ('%s %s' % (own, mark)) if own else mark
        return kwargs

    def find(self, request):
        return self._found(listed(
            self.client, self.collection, self.owner(request),
            lambda item: Marks(item, self.operation).carry(request.marker),
            request.marker if self._tagged else None))

    def peek(self, request):
        """The resource carrying the very description this request's
        create sends (tagged ports: ``find``); other parameters are told
        by the reservation, or by ``find`` where there is none."""
        if self._tagged:
            return self.find(request)
        description = self.marked_kwargs(self._kwargs, request,
                                         False)['description']
        return self._found(oldest_first(self.client.listed(
            self.collection, {'description': description})))

    def _found(self, found):
        if not found:
            return None
        body = found[0]
        digest = Marks(body, self.operation).digest
        return idempotent.Found(self.sdk(body), [body['id']],
                                fp.Fingerprint(digest, {}) if digest
                                else None)

    def owner(self, request):
        """The project the item is made in: an admin's ``--project``, else
        the caller's (the token stays the caller's either way)."""
        return (self._kwargs.get('project_id') or
                self._kwargs.get('tenant_id') or request.scope.project_id)

    def marked(self, kwargs):
        return self.marked_kwargs(kwargs, self._request, self._tagged)

    def send(self, entry):
        """The create, printed as every later run (a show) prints it."""
        item, resource_ids, request_id = super().send(entry)
        for name in self.create_only_fields:
            setattr(item, name, None)
        return item, resource_ids, request_id

    @classmethod
    def install(cls, app, parsed_args, token, task_tag, say):
        """Wrap this command's create call (see ``hooks``)."""
        if not app.client_manager.is_network_endpoint_enabled():
            raise errors.Refused(
                'The cloud\'s catalog has no network endpoint: this %s '
                'create would take Nova\'s path, which idemclient does not '
                'protect. Nothing was sent.' % cls.noun)
        proxy = app.client_manager.network
        original = getattr(proxy, cls.create_call)
        if cls.tags_extension:
            _share_extension_lookups(proxy)

        def create(**kwargs):
            tagged = bool(cls.tags_extension and proxy.find_extension(
                cls.tags_extension, ignore_missing=True))

            def make(request):
                cls.marked_kwargs(kwargs, request, tagged)  # refused here
                return cls(network_api.NetworkClient(proxy), original,
                           kwargs, request, tagged)
            return cls.run(app, parsed_args, proxy, kwargs, token,
                           task_tag, say, make)

        wrapping.wrap_create(proxy, cls.create_call, create)
        return base.Finished()


def _share_extension_lookups(proxy):
    """OSC asks whether an extension is there before the create; asking
    again for the marker costs no second request."""
    original, seen = proxy.find_extension, {}

    def find_extension(name_or_id, ignore_missing=True, **kwargs):
        if name_or_id not in seen:
            try:
                seen[name_or_id] = original(name_or_id, ignore_missing=True,
                                            **kwargs)
            except Exception as exc:
                raise errors.sdk_error(exc)
        if seen[name_or_id] is None and not ignore_missing:
            return original(name_or_id, ignore_missing=False, **kwargs)
        return seen[name_or_id]

    wrapping.wrap(proxy, 'find_extension', find_extension)
