"""``openstack keypair create --client-token``: keypairs as a Kind.

Keypair names are unique per user, so the name is the cloud-side marker. A
generated key is made *before* the request and kept in the journal entry
(mode 0600), so a retry after a lost response gives the user the same
private key. Its public half carries the token's marker as its comment, so
another host can tell "created with this token" from "name taken".
"""

import os

from idemclient.clients import compute as compute_api
from idemclient.clients import errors
from idemclient import context
from idemclient import contract
from idemclient.core import failpoints
from idemclient.core import idempotent
from idemclient.core import keyfile
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.observation import Observation
from idemclient import wrapping

OPERATION = registry.BY_COMMAND['keypair create'].operation


def key_material(public_key):
    """``type base64`` of an OpenSSH public key, without its comment."""
    return ' '.join((public_key or '').split()[:2])


def generate(comment):
    """A new ed25519 key, like OSC's, as (private OpenSSH PEM, public)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives import serialization
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH,
        serialization.PublicFormat.OpenSSH).decode()
    return private, '%s %s' % (public, comment)


def public_of(private_key):
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_ssh_private_key(private_key.encode(), None)
    return key.public_key().public_bytes(
        serialization.Encoding.OpenSSH,
        serialization.PublicFormat.OpenSSH).decode()


def with_markers(public_key, request):
    """The key with the request's markers (``Request.markers``) as the end
    of its comment, after any comment of the user's own: keypairs take no
    tags, and the comment is what another host can read."""
    words = (public_key or '').split()
    markers = request.markers()
    own = [w for w in words[2:] if w not in markers]
    return ' '.join(words[:2] + own + markers)


class KeypairKind(contract.Kind):
    noun = 'keypair'

    def __init__(self, client, create, kwargs, request, generated):
        self.client = client
        self._create = create
        self._kwargs = dict(kwargs)
        self._request = request
        self._generated = generated
        self.private_key = None

    def bind(self, entry):
        """Pick the key: the one an earlier attempt kept, else a new one.
        Its comment carries the request's markers (see ``with_markers``)."""
        if not self._generated:
            self._kwargs['public_key'] = with_markers(
                self._kwargs['public_key'], self._request)
            return None
        if entry is not None and entry.secret:
            self.private_key = entry.secret
            public = public_of(entry.secret)
        else:
            self.private_key, public = generate(self._request.marker)
        self._kwargs['public_key'] = with_markers(public, self._request)
        return self.private_key

    @staticmethod
    def _sdk_keypair(body):
        from openstack.compute.v2 import keypair as sdk_keypair
        return sdk_keypair.Keypair.existing(**body)

    def _check(self, body):
        """Ours if the key material matches; otherwise say why not."""
        if key_material(body.get('public_key')) == key_material(
                self._kwargs['public_key']):
            return True
        comment = (body.get('public_key') or '').split()[2:]
        if self._generated and self._request.marker in comment:
            raise errors.Refused(
                'Keypair %s was created with %s from another host; its '
                'private key is only in that host\'s journal. Nothing was '
                'sent.' % (body['name'], self._request.label))
        raise errors.Refused(
            'Keypair name %s is already taken by a different key. Nothing '
            'was sent.' % body['name'])

    def find(self, request):
        body = self.client.get_keypair(self._kwargs['name'],
                                       self._kwargs.get('user_id'))
        if body is None or not self._check(body):
            return None
        return idempotent.Found(self._sdk_keypair(body), [body['name']])

    def fetch(self, resource_ids):
        body = self.client.get_keypair(resource_ids[0],
                                       self._kwargs.get('user_id'))
        if body is None:
            return None
        self._check(body)
        return self._sdk_keypair(body)

    def kept_secret(self):
        """The private key to give the user, if this run generated one."""
        return self.private_key

    def send(self, entry):
        try:
            keypair, response = self.client.guarded_create(
                lambda: self._create(**self._kwargs), entry.request_id,
                self._request.client_token)
        except Exception as exc:  # SDK or keystoneauth: translate once
            raise errors.sdk_error(exc)
        return keypair, [keypair.name], errors.response_request_id(response)


def request_for(scope, kwargs, client_token, task_tag, generated):
    """Fingerprint: the name, type, owner and either 'a generated key' or
    the supplied key's material."""
    params = {k: v for k, v in kwargs.items() if k != 'public_key'}
    params['public_key'] = 'generated' if generated else key_material(
        kwargs['public_key'])
    return idempotent.Request.for_create(OPERATION, scope, params,
                                         client_token, task_tag,
                                         target=kwargs.get('name'))


class HookedCreate(contract.Invocation):
    """One ``keypair create``: its create call goes through ``run_once``;
    afterwards a private key this run generated (or kept from an earlier
    attempt) is given to the user, written 0600 to ``--private-key``."""

    def __init__(self, app, parsed_args, token, task_tag, say):
        self.app, self.say = app, say
        self.kind = None
        self.private_key_file = None
        compute = app.client_manager.compute
        generated = not parsed_args.public_key
        if generated:
            # The key must be chosen under the request's lock (see
            # KeypairKind.bind), after OSC's own generation would have run:
            # let OSC read an empty public key and supply ours in its place.
            self.private_key_file = parsed_args.private_key
            parsed_args.public_key = os.devnull
        original = compute.create_keypair

        def create_keypair(**kwargs):
            scope = context.scope_of(app, compute)
            request = request_for(scope, kwargs, token, task_tag, generated)
            self.kind = KeypairKind(compute_api.ComputeClient(compute),
                                    original, kwargs, request, generated)
            return idempotent.run_once(
                context.journal_path(app), request, self.kind, say,
                reservation=context.reservation(app, parsed_args, request,
                                                say, slot_only=True),
                retries=context.retries(app, parsed_args))

        wrapping.wrap_create(compute, 'create_keypair', create_keypair)

    def after(self, parsed_args, return_code):
        private_key = self.kind.kept_secret() if self.kind else None
        if not private_key:
            return return_code
        if self.private_key_file:
            failpoints.hit('before-key-file')
            keyfile.write_private(self.private_key_file, private_key)
            return return_code
        self.app.stdout.write(private_key)
        return ((), ())


install = HookedCreate


def _marked(compute, marker):
    """The user's keypairs whose key comment carries ``marker``."""
    return [k for k in compute.keypairs()
            if marker in (k.get('public_key') or '').split()[2:]]


class KeypairTasks(contract.Tasks):
    """A keypair's task: it exists (``succeeded``) or not; its name is the
    journal's target, and its key comment carries the markers."""

    def observe(self, entry, clients):
        if entry.state == 'failed':
            return Observation('failed', entry.resource_ids, entry.error)
        keypair = clients.compute.get_keypair(entry.target) \
            if entry.target else None
        if keypair is None:
            return Observation('deleted', entry.resource_ids) \
                if entry.state == 'done' else None
        ours = entry.state == 'done' or \
            entry.marker in (keypair.get('public_key') or '').split()[2:]
        if not ours:
            return Observation('failed', [], 'Keypair name %s is taken by '
                               'a different key.' % entry.target)
        return Observation('succeeded', [keypair['name']])

    def by_tag(self, clients, scope, tag):
        marker = tokens.derive_tag(scope, tag, prefix='task')
        return [(OPERATION, Observation('succeeded', [keypair['name']]),
                 tokens.task_id_of(keypair['public_key'].split(), OPERATION))
                for keypair in _marked(clients.compute, marker)]

    def by_id(self, clients, scope, task_id):
        found = _marked(clients.compute, tokens.id_tag(OPERATION, task_id))
        return [(OPERATION, Observation('succeeded', [found[0]['name']]),
                 task_id)] if found else []


TASKS = KeypairTasks()
