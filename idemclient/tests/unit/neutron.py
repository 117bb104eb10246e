"""A Neutron for unit tests: requests-mock behind a real keystoneauth
session, and a network proxy standing in for the SDK's: its create calls
POST through the same adapter (so the guarded POST is what is sent) and
its extension lookup is counted."""

import json
from unittest import mock

from keystoneauth1 import adapter
from openstack import exceptions as sdk_exceptions
import testtools

from idemclient.tests.unit import shared

NEUTRON = 'http://neutron.example/v2.0'
TAGS_EXTENSION = 'tag-ports-during-bulk-creation'


class Created:
    """What an SDK create returns, as far as the kinds use it."""

    def __init__(self, body):
        self.id = body['id']
        self.body = body


class FakeNetworkProxy(adapter.Adapter):

    def __init__(self, sess, extensions=()):
        super().__init__(sess, service_type='network',
                         endpoint_override=NEUTRON)
        self.extensions = set(extensions)
        self.extension_lookups = []

    def find_extension(self, name_or_id, ignore_missing=True):
        self.extension_lookups.append(name_or_id)
        return mock.Mock(alias=name_or_id) \
            if name_or_id in self.extensions else None

    def _create(self, collection, key, attrs):
        response = self.post('/' + collection, json={key: attrs},
                             raise_exc=False)
        sdk_exceptions.raise_from_response(response)  # as the SDK does
        return Created(response.json()[key])

    def create_network(self, **attrs):
        return self._create('networks', 'network', attrs)

    def create_port(self, **attrs):
        return self._create('ports', 'port', attrs)

    def create_router(self, **attrs):
        return self._create('routers', 'router', attrs)

    def create_security_group(self, **attrs):
        return self._create('security-groups', 'security_group', attrs)

    def create_ip(self, **attrs):
        return self._create('floatingips', 'floatingip', attrs)


class NeutronTestCase(testtools.TestCase):

    extensions = (TAGS_EXTENSION,)

    def setUp(self):
        super().setUp()
        neutron = self.useFixture(shared.MockedService(NEUTRON, 'network'))
        self.mock = neutron.mock
        self.proxy = FakeNetworkProxy(neutron.session, self.extensions)

    def posted(self, collection, key, item_id='new-id'):
        """Answer creates of ``collection`` with the body sent plus an id."""
        def answer(request, context):
            body = json.loads(request.body)[key]
            context.status_code = 201
            return {key: dict(body, id=item_id, status='ACTIVE',
                              project_id=shared.SCOPE.project_id)}
        return self.mock.post(NEUTRON + '/' + collection, json=answer)

    def listing(self, collection, *items):
        key = collection.replace('-', '_')
        return self.mock.get(NEUTRON + '/' + collection,
                             json={key: list(items)})
