"""``openstack loadbalancer create --client-token``: Octavia's load balancers,
the worked example of a kind (``doc/source/development.rst``).

The command is python-octaviaclient's (an OSC plugin of its own): the hook
loads only where it is installed (``pip install idemclient[octavia]``).
Octavia takes tags in the create request itself (API 2.5 and later), in the
same transaction as the load balancer: the markers ride there, with the
parameters' digest, and one filtered listing (``tags=<marker>``) finds them
from any host, whatever the project holds.

A load balancer is built after the create answers: its task is
``accepted`` while ``PENDING_CREATE``, ``succeeded`` once ``ACTIVE``,
``failed`` in ``ERROR``.
"""

from idemclient.clients import errors
from idemclient import context
from idemclient import contract
from idemclient.core import fingerprint as fp
from idemclient.core import idempotent
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.kinds import base
from idemclient.kinds import neutron
from idemclient.observation import Observation
from idemclient import wrapping

ROW = registry.BY_COMMAND['loadbalancer create']
OPERATION = ROW.operation
COLLECTION = ROW.collection
FINGERPRINT_TAG = neutron.FINGERPRINT_TAG  # tagged ports carry the same
oldest_first = neutron.oldest_first


def tagged(client, marker):
    """The load balancers carrying ``marker``, oldest first."""
    return oldest_first(client.listed(COLLECTION, {'tags': marker}))


class LoadBalancerKind(base.WrappedCreate):
    """The markers are tags of the create; ``send`` posts it itself."""

    operation = OPERATION
    noun = ROW.noun
    collection = COLLECTION
    unordered = ('tags', 'vip_sg_ids')

    @classmethod
    def sdk(cls, body):
        """What octaviaclient's create returns and the command prints."""
        return {'loadbalancer': body}

    def marked(self, attrs):
        attrs = dict(attrs)
        attrs['tags'] = list(attrs.get('tags') or []) + \
            self._request.markers() + \
            [FINGERPRINT_TAG + self._request.fingerprint.digest]
        return attrs

    def find(self, request):
        found = tagged(self.client, request.marker)
        if not found:
            return None
        digest = neutron.Marks(found[0], self.operation).digest
        return idempotent.Found(self.sdk(found[0]), [found[0]['id']],
                                fp.Fingerprint(digest, {}) if digest
                                else None)

    def send(self, entry):
        body, response = self.client.create(
            self.collection, {'loadbalancer': self.marked(self._kwargs)},
            entry.request_id, self._request.client_token)
        item = body['loadbalancer']
        return self.sdk(item), [item['id']], \
            errors.response_request_id(response)

    @classmethod
    def install(cls, app, parsed_args, token, task_tag, say):
        """Wrap octaviaclient's ``load_balancer_create`` (see ``hooks``)."""
        api = app.client_manager.load_balancer
        # Octavia's endpoint as octaviaclient's: the catalog's, or the
        # load_balancer_endpoint_override both read.
        client = context.load_balancer_client(app)
        if client is None:
            raise errors.Refused('The cloud\'s catalog has no load-balancer '
                                 'endpoint. Nothing was sent.')

        def create(json=None, **params):
            attrs = dict((json or {}).get('loadbalancer') or {})
            return cls.run(app, parsed_args, client.adapter, attrs, token,
                           task_tag, say,
                           lambda request: cls(client, None, attrs, request))

        wrapping.wrap_create(api, 'load_balancer_create', create)
        return base.Finished()


install = LoadBalancerKind.install


def judge(body):
    """The task of a load balancer, from its provisioning status."""
    status = (body.get('provisioning_status') or '').upper()
    if status == 'ERROR':
        return Observation('failed', [body['id']], 'The load balancer is in '
                           'ERROR (operating status %s).' % (
                               body.get('operating_status') or 'unknown'))
    if status == 'PENDING_CREATE':
        return Observation('accepted', [body['id']])
    return Observation('succeeded', [body['id']])


class LoadBalancerTasks(contract.FoundByMarker):
    """Found by their tags, one filtered listing each, from any host."""

    def _tagged(self, clients, marker):
        client = clients.load_balancer
        if client is None:
            return []
        try:
            return tagged(client, marker)
        except errors.ApiError:
            return []

    def get(self, clients, entry):
        return clients.load_balancer.get(COLLECTION, entry.resource_ids[0])

    def marked(self, clients, entry):
        found = self._tagged(clients, entry.marker)
        return found[0] if found else None

    def judge(self, clients, entry, body):
        return judge(body)

    def by_tag(self, clients, scope, tag):
        found = self._tagged(clients, tokens.derive_tag(scope, tag,
                                                        prefix='task'))
        return [(OPERATION, judge(found[0]), tokens.task_id_of(
            found[0].get('tags'), OPERATION))] if found else []

    def by_id(self, clients, scope, task_id):
        found = self._tagged(clients, tokens.id_tag(OPERATION, task_id))
        return [(OPERATION, judge(found[0]), task_id)] if found else []

    def reconcile(self, clients, entries, settle_seconds, say,
                  progress=None):
        """Each project's load balancers listed once for every entry; an
        entry not found there (an admin's, made in another project) is
        looked up by its own marker."""
        if clients.load_balancer is None:
            return {entry.uuid: None for entry in entries}
        by_marker = {}
        for project_id in {entry.project_id for entry in entries}:
            for item in oldest_first(clients.load_balancer.listed(
                    COLLECTION, {'project_id': project_id})):
                for tag in item.get('tags') or ():
                    by_marker.setdefault(tag, item)
        return {entry.uuid: judge(by_marker[entry.marker])
                if entry.marker in by_marker else self.observe(entry, clients)
                for entry in entries}


TASKS = LoadBalancerTasks()
