"""The client over a real keystoneauth session, with requests-mock."""

from keystoneauth1 import exceptions as ks_exceptions
import requests
import testtools

from idemclient.clients import compute as client
from idemclient.clients import errors
from idemclient.tests.unit import shared

NOVA = shared.NOVA


def server(sid, tags, **extra):
    return dict({'id': sid, 'name': sid, 'tags': tags, 'metadata': {}},
                **extra)


class ClientTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.nova = self.useFixture(shared.MockedService(
            NOVA, 'compute', connect_retries=3, status_code_retries=3))
        self.mock, self.adapter = self.nova.mock, self.nova.adapter
        self.client = client.ComputeClient(self.adapter)


class TestServersByTag(ClientTestCase):

    def test_query_and_microversion(self):
        self.mock.get(NOVA + '/servers/detail',
                      json={'servers': [server('a', ['t1'])]})
        self.assertEqual(['a'],
                         [s['id'] for s in self.client.servers_by_tag('t1')])
        req = self.mock.last_request
        self.assertEqual({'tags': ['t1'], 'limit': ['1000']}, req.qs)
        # Below 2.26 Nova ignores the filter: never lower than 2.26 (no
        # version document here to say more).
        self.assertEqual('compute 2.26',
                         req.headers['OpenStack-API-Version'])
        self.assertEqual('tok', req.headers['X-Auth-Token'])

    def test_listed_at_the_sdks_own_version_for_the_same_bodies(self):
        # A listed body stands in for OSC's refresh GET of a new server.
        for cloud_max, pinned, sent in (('2.100', None, '2.100'),
                                        ('2.30', None, '2.30'),
                                        ('2.100', '2.60', '2.60'),
                                        ('2.100', '2.10', '2.26')):
            self.mock.get(NOVA, json={
                'version': shared.nova_version(cloud_max)})
            self.mock.get(NOVA + '/servers/detail', json={'servers': []})
            # no version document cached yet
            fresh = self.nova.new_adapter(default_microversion=pinned)
            client.ComputeClient(fresh).servers_by_tag('t1')
            self.assertEqual('compute ' + sent, self.mock.last_request
                             .headers['OpenStack-API-Version'])

    def test_servers_without_the_exact_tag_are_dropped(self):
        # An old cloud ignoring the filter, or case-insensitive tags.
        self.mock.get(NOVA + '/servers/detail', json={'servers': [
            server('a', ['T1']), server('b', []), server('c', ['x', 't1'])]})
        self.assertEqual(['c'],
                         [s['id'] for s in self.client.servers_by_tag('t1')])

    def test_pages_are_followed(self):
        first = [server('s%04d' % i, ['t']) for i in range(1000)]
        self.mock.get(NOVA + '/servers/detail', [
            {'json': {'servers': first, 'servers_links': [{'rel': 'next'}]}},
            {'json': {'servers': [server('last', ['t'])]}}])
        self.assertEqual(1001, len(self.client.servers_by_tag('t')))
        self.assertEqual(['s0999'], self.mock.last_request.qs['marker'])

    def test_any_tag_batches_in_one_request(self):
        self.mock.get(NOVA + '/servers/detail', json={'servers': [
            server('a', ['t1']), server('b', ['t3', 'z'])]})
        found = self.client.servers_by_any_tag(['t3', 't1', 't2'])
        self.assertEqual(['a', 'b'], [s['id'] for s in found])
        self.assertEqual(1, len([r for r in self.mock.request_history
                                 if r.path.endswith('/servers/detail')]))
        self.assertEqual(['t1,t2,t3'], self.mock.last_request.qs['tags-any'])

    def test_error_keeps_cloud_message_status_and_request_id(self):
        self.mock.get(NOVA + '/servers/detail', status_code=406, json={
            'computeFault': {'message': 'Version 2.26 is not supported'}},
            headers={'x-openstack-request-id': 'req-1'})
        exc = self.assertRaises(errors.ApiError, self.client.servers_by_tag,
                                't')
        self.assertEqual((406, 'req-1'), (exc.status_code, exc.request_id))
        self.assertEqual('Cannot list servers: Version 2.26 is not supported '
                         '(HTTP 406) (Request-ID: req-1)', str(exc))

    def test_connection_failure_is_translated(self):
        self.adapter.connect_retries = 0
        self.mock.get(NOVA + '/servers/detail',
                      exc=ks_exceptions.ConnectFailure('refused'))
        exc = self.assertRaises(errors.ApiError, self.client.servers_by_tag,
                                't')
        self.assertIsNone(exc.status_code)
        self.assertIn('refused', str(exc))


class TestShow(ClientTestCase):

    def test_get_server_and_gone_server(self):
        self.mock.get(NOVA + '/servers/a', json={'server': server('a', [])})
        self.mock.get(NOVA + '/servers/b', status_code=404,
                      json={'itemNotFound': {'message': 'not found'}})
        self.assertEqual('a', self.client.get_server('a')['id'])
        self.assertIsNone(self.client.get_server('b'))

    def test_other_errors_are_not_taken_for_gone(self):
        self.mock.get(NOVA + '/servers/a', status_code=500,
                      json={'computeFault': {'message': 'boom'}})
        self.assertRaises(errors.ApiError, self.client.get_server, 'a')

    def test_keypair_by_name_with_owner(self):
        self.mock.get(NOVA + '/os-keypairs/k1',
                      json={'keypair': {'name': 'k1', 'public_key': 'x'}})
        self.assertEqual('k1', self.client.get_keypair('k1', 'u2')['name'])
        self.assertEqual({'user_id': ['u2']}, self.mock.last_request.qs)
        self.assertEqual('compute 2.10', self.mock.last_request.headers[
            'OpenStack-API-Version'])
        self.mock.get(NOVA + '/os-keypairs/k2', status_code=404, json={})
        self.assertIsNone(self.client.get_keypair('k2'))


class TestGuardedCreate(ClientTestCase):

    def create(self):
        return self.adapter.post('/servers', json={'server': {}},
                                 raise_exc=False)

    def test_headers_on_the_post(self):
        self.mock.post(NOVA + '/servers', status_code=202,
                       json={'server': {'id': 'a'}},
                       headers={'x-openstack-request-id': 'req-cloud'})
        result, response = self.client.guarded_create(
            self.create, 'req-mine', 'T 1')
        req = self.mock.last_request
        self.assertEqual('req-mine', req.headers['X-OpenStack-Request-ID'])
        self.assertEqual('T 1', req.headers['X-Client-Token'])
        self.assertEqual('req-cloud', errors.response_request_id(response))
        self.assertIs(result, response)

    def test_no_client_token_header_without_a_token(self):
        self.mock.post(NOVA + '/servers', status_code=202, json={})
        self.client.guarded_create(self.create, 'req-mine', None)
        self.assertNotIn('X-Client-Token', self.mock.last_request.headers)

    def test_read_timeout_is_not_resent(self):
        # keystoneauth would re-send a timed-out POST connect_retries times.
        self.mock.post(NOVA + '/servers',
                       exc=ks_exceptions.ConnectTimeout('read timeout'))
        self.assertRaises(ks_exceptions.ConnectTimeout,
                          self.client.guarded_create, self.create, 'r', 't')
        self.assertEqual(1, self.mock.call_count)

    def test_retriable_status_is_not_resent(self):
        self.mock.post(NOVA + '/servers', status_code=503, json={})
        self.client.guarded_create(self.create, 'r', 't')
        self.assertEqual(1, self.mock.call_count)

    def test_adapter_is_restored(self):
        self.mock.post(NOVA + '/servers', status_code=202, json={})
        self.client.guarded_create(self.create, 'r', 't')
        self.assertNotIn('post', vars(self.adapter))
        self.adapter.post('/servers', raise_exc=False)
        self.assertNotIn('X-Client-Token', self.mock.last_request.headers)


def _answer(status, body, request_id=None):
    """What keystoneauth raises for an answer (``from_response``)."""
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers['Content-Type'] = 'application/json'
    if request_id:
        response.headers['x-openstack-request-id'] = request_id
    return ks_exceptions.from_response(response, 'POST', 'http://cloud/x')


class TestSdkError(testtools.TestCase):

    def test_status_and_request_id_are_said_once(self):
        exc = _answer(409, '{"error": {"message": '
                      '"Key pair k exists", "code": 409}}', 'req-1')
        self.assertEqual('Key pair k exists (HTTP 409) (Request-ID: req-1)',
                         str(errors.sdk_error(exc)))

    def test_bare_keystoneauth_error(self):
        exc = ks_exceptions.HttpError(http_status=409)
        self.assertEqual('HTTP Error (HTTP 409)', str(errors.sdk_error(exc)))

    def test_parentheses_of_the_clouds_own_are_kept(self):
        exc = _answer(400, '{"error": {"message": '
                      '"Bad size (must be > 0)", "code": 400}}')
        self.assertEqual('Bad size (must be > 0) (HTTP 400)',
                         str(errors.sdk_error(exc)))
