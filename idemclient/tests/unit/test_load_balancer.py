"""Load balancers (``kinds.load_balancer``) through the real ``openstack
loadbalancer create`` (python-octaviaclient's command, OSC's parsing)
against the cloud of requests-mock: the markers ride in the one POST as
tags, a refusal is a refusal and no answer an unknown outcome whatever
octaviaclient's own error type, and the tasks read Octavia's statuses."""

import json
import os
import subprocess
import sys
from unittest import mock
import urllib.parse

from keystoneauth1 import session as ks_session
import requests
import requests_mock

from idemclient.clients import errors
from idemclient.clients import load_balancer as lb_api
from idemclient import contract
from idemclient.core import journal as jmod
from idemclient.core import token as tokens
from idemclient.kinds import load_balancer
from idemclient import tasks
from idemclient.tests.unit import osc_cloud
from idemclient.tests.unit import test_osc_commands

LBS = osc_cloud.OCTAVIA + '/v2.0/lbaas/loadbalancers'
CREATE = ('loadbalancer', 'create', '--vip-subnet-id', 'private', '--name',
          'l1', '-f', 'json')


class LoadBalancerTestCase(test_osc_commands.OscTestCase):

    def setUp(self):
        super().setUp()
        self.cloud = self.useFixture(osc_cloud.Cloud())

    def osc(self, *extra, journal=None, cloud=None):
        return (cloud or self.cloud).openstack(
            *(CREATE + extra), journal=journal or self.journal,
            home=self.home)

    def posts(self):
        return [(url, body) for method, url, body in self.cloud.requests(
            'POST') if url.startswith(LBS)]

    def lookups(self):
        return [url for method, url, _ in self.cloud.requests('GET')
                if url.startswith(LBS)]

    def entries(self, path=None):
        with jmod.Journal.open(path or self.journal) as journal:
            return journal.entries()


class TestCreate(LoadBalancerTestCase):

    def test_the_markers_ride_in_the_one_post_beside_the_users_tags(self):
        code, out, err = self.osc('--client-token', 'T', '--task-tag', 'G',
                                  '--tag', 'web')
        self.assertEqual(0, code, err)
        [(url, body)] = self.posts()
        [entry] = self.entries()
        sent = body['loadbalancer']
        self.assertEqual('web', sent['tags'][0])
        self.assertIn(entry.marker, sent['tags'])
        self.assertIn(tokens.derive_tag(
            load_balancer_scope(entry), 'G', prefix='task'), sent['tags'])
        self.assertEqual(entry.uuid, tokens.task_id_of(
            sent['tags'], 'load_balancer.create'))
        self.assertEqual(
            [('l1', osc_cloud.SUBNET['id'])],
            [(sent['name'], sent['vip_subnet_id'])])
        posted = [r for r in self.cloud.mock.request_history
                  if r.method == 'POST' and r.url.startswith(LBS)][0]
        self.assertEqual('T', posted.headers['X-Client-Token'])
        self.assertEqual(entry.request_id,
                         posted.headers['X-OpenStack-Request-ID'])
        shown = json.loads(out)
        self.assertEqual((entry.resource_ids[0], 'created'),
                         (shown['id'], shown['idemclient_outcome']))

    def test_a_retry_from_any_host_is_one_tagged_listing_and_no_post(self):
        self.assertEqual(0, self.osc('--client-token', 'T')[0])
        before = len(self.lookups())
        code, out, err = self.osc('--client-token', 'T', journal=os.path.join(
            self.home, 'other.sqlite'))
        self.assertEqual(0, code, err)
        self.assertEqual(1, len(self.posts()))
        [lookup] = self.lookups()[before:]
        [entry] = self.entries()
        self.assertEqual([entry.marker], urllib.parse.parse_qs(
            urllib.parse.urlsplit(lookup).query)['tags'])
        self.assertEqual('existed', json.loads(out)['idemclient_outcome'])

    def test_other_parameters_are_refused_naming_them(self):
        self.assertEqual(0, self.osc('--client-token', 'T')[0])
        code, out, err = self.osc('--client-token', 'T', '--description',
                                  'other', journal=os.path.join(
                                      self.home, 'other.sqlite'))
        self.assertEqual(1, code)
        self.assertIn('with other parameters', err)
        self.assertEqual(1, len(self.posts()))

    def test_octavias_refusal_is_one_line_and_frees_the_token(self):
        self.cloud.mock.post(LBS, status_code=400, json={
            'faultcode': 'Client', 'debuginfo': None,
            'faultstring': 'Invalid input for field/attribute vip_address.'})
        code, out, err = self.osc('--client-token', 'T', '--no-reservation')
        self.assertEqual(1, code)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertIn('Invalid input for field/attribute vip_address', err)
        [entry] = self.entries()
        self.assertEqual('failed', entry.state)

    def test_a_server_error_or_no_answer_leaves_the_outcome_unknown(self):
        for answer in ({'status_code': 500, 'json': {
                'faultcode': 'Server', 'faultstring': 'boom'}},
                {'exc': requests.exceptions.ConnectionError('reset')}):
            self.cloud.mock.post(LBS, **answer)
            code, out, err = self.osc('--client-token', 'T', '--retries',
                                      '0', '--no-reservation')
            self.assertEqual(75, code, err)
            self.assertIn('unknown', err)
            self.assertEqual(['pending'],
                             [e.state for e in self.entries()])

    def test_without_a_token_nothing_changes(self):
        code, out, err = self.osc()
        self.assertEqual(0, code, err)
        [(url, body)] = self.posts()
        self.assertNotIn('tags', body['loadbalancer'])
        self.assertEqual([], self.entries() if os.path.exists(
            self.journal) else [])


class TestErrors(LoadBalancerTestCase):
    """octaviaclient's own error (``OctaviaClientException``: the status in
    ``code``) is read as every other service's."""

    def octavia_error(self, status, headers=None):
        from octaviaclient.api.v2 import octavia
        api = octavia.OctaviaAPI(session=ks_session.Session(),
                                 endpoint=osc_cloud.OCTAVIA)
        with requests_mock.Mocker() as mocker:
            mocker.get(LBS + '/x', status_code=status, headers=headers or {},
                       json={'faultstring': 'said by Octavia'})
            try:
                api.load_balancer_show('x')
            except Exception as exc:
                return errors.sdk_error(exc)
        self.fail('no error')

    def test_a_4xx_is_a_refusal_with_octavias_words(self):
        error = self.octavia_error(409)
        self.assertEqual((409, False), (error.status_code, error.transient))
        self.assertIn('said by Octavia', str(error))

    def test_a_503_is_transient_and_keeps_retry_after(self):
        error = self.octavia_error(503, {'Retry-After': '7'})
        self.assertEqual((503, True, 7.0), (error.status_code,
                                            error.transient,
                                            error.retry_after))

    def test_our_own_calls_read_octavias_fault_body(self):
        client = lb_api.LoadBalancerClient(_adapter())
        with requests_mock.Mocker() as mocker:
            mocker.get(LBS, status_code=403, json={
                'faultcode': 'Client', 'faultstring': 'Policy does not '
                'allow this request to be performed.'})
            error = self.assertRaises(errors.ApiError, client.listed,
                                      'loadbalancers')
        self.assertIn('Policy does not allow', str(error))
        self.assertEqual(403, error.status_code)


def _adapter():
    from keystoneauth1 import adapter
    return adapter.Adapter(ks_session.Session(), endpoint_override=(
        lb_api.endpoint_of(osc_cloud.OCTAVIA)))


def load_balancer_scope(entry):
    return tokens.Scope(entry.auth_url, entry.project_id, entry.user_id, '')


class TestEndpoint(LoadBalancerTestCase):

    def test_the_version_is_added_once(self):
        self.assertEqual(
            ['http://o/v2.0', 'http://o/v2.0', 'http://o/v2'],
            [lb_api.endpoint_of(url) for url in (
                'http://o', 'http://o/v2.0/', 'http://o/v2')])


class TestTasks(LoadBalancerTestCase):

    def made(self, tag='G', **changes):
        code, out, err = self.osc('--client-token', 'T', '--task-tag', tag)
        self.assertEqual(0, code, err)
        [entry] = self.entries()
        body = self.cloud.store[('load-balancer', 'loadbalancers')][
            entry.resource_ids[0]]
        body.update(changes)
        return entry, body

    def clients(self):
        return contract.Clients.made(load_balancer=lb_api.LoadBalancerClient(
            _adapter()))

    def test_states_follow_the_provisioning_status(self):
        entry, body = self.made()
        for status, state in (('PENDING_CREATE', 'accepted'),
                              ('ACTIVE', 'succeeded'), ('ERROR', 'failed')):
            body['provisioning_status'] = status
            observation = tasks.observe(entry, self.clients())
            self.assertEqual((state, [body['id']]),
                             (observation.state, observation.resource_ids))
        self.assertIn('ERROR', observation.error)
        del self.cloud.store[('load-balancer', 'loadbalancers')][body['id']]
        self.assertEqual('deleted',
                         tasks.observe(entry, self.clients()).state)

    def test_by_tag_and_by_id_from_another_host_one_listing_each(self):
        entry, body = self.made(provisioning_status='ACTIVE')
        scope = load_balancer_scope(entry)
        before = len(self.lookups())
        [(op, seen, task_id)] = load_balancer.TASKS.by_tag(
            self.clients(), scope, 'G')
        self.assertEqual(('load_balancer.create', 'succeeded', entry.uuid),
                         (op, seen.state, task_id))
        [(op, seen, task_id)] = load_balancer.TASKS.by_id(
            self.clients(), scope, entry.uuid)
        self.assertEqual([body['id']], seen.resource_ids)
        self.assertEqual(2, len(self.lookups()) - before)
        self.assertEqual([], load_balancer.TASKS.by_tag(
            self.clients(), scope, 'never'))

    def test_task_show_by_tag_from_another_host(self):
        entry, body = self.made(tag='nightly')
        code, out, err = self.cloud.openstack(
            'task', 'show', '--tag', 'nightly', '-f', 'json',
            journal=os.path.join(self.home, 'other.sqlite'), home=self.home)
        self.assertEqual(0, code, err)
        shown = json.loads(out)
        self.assertEqual(('load_balancer.create', 'accepted', body['id'],
                          entry.uuid),
                         (shown['task'], shown['state'], shown['resource'],
                          shown['uuid']))

    def test_resume_lists_the_load_balancers_once_for_all(self):
        def made_then_lost(request, context):
            self.cloud._answer(request, context)  # made...
            context.status_code = 500             # ...its answer lost
            return {'faultstring': 'lost'}
        self.cloud.mock.post(LBS, json=made_then_lost)
        for n in range(3):
            self.assertEqual(75, self.osc('--client-token', 'T%d' % n,
                                          '--name', 'l%d' % n, '--retries',
                                          '0', '--no-reservation')[0])
        entries = self.entries()
        self.assertEqual(['pending'] * 3, [e.state for e in entries])
        before = len(self.lookups())
        found = load_balancer.TASKS.reconcile(self.clients(), entries, 0,
                                              print)
        self.assertEqual(1, len(self.lookups()) - before)
        self.assertEqual(
            {e.uuid: 'accepted' for e in entries},
            {uuid: seen.state for uuid, seen in found.items()})


class TestWithoutOctaviaclient(LoadBalancerTestCase):
    """The extra is optional: without python-octaviaclient nothing else
    changes, another host's load balancer tasks are still read (from the
    catalog), and the API says what to install."""

    def test_nothing_else_needs_it(self):
        script = (
            'import sys; sys.modules["octaviaclient"] = None\n'
            'import idemclient.hooks, idemclient.tasks, idemclient.api\n'
            'from idemclient.kinds import load_balancer\n'
            'from idemclient.commands import task\n'
            'print(load_balancer.OPERATION)\n')
        done = subprocess.run([sys.executable, '-c', script],
                              capture_output=True, text=True)
        self.assertEqual((0, 'load_balancer.create'),
                         (done.returncode, done.stdout.strip()), done.stderr)

    def test_the_api_says_what_to_install(self):
        from idemclient import api
        from idemclient.tests.unit import test_api
        # Imports read the interpreter's own dict: change it in place.
        patched = mock.patch.dict(sys.modules, {
            'octaviaclient': None, 'octaviaclient.osc': None})
        patched.start()
        self.addCleanup(patched.stop)
        error = self.assertRaises(api.Refused, api.create,
                                  test_api.connect(), 'load_balancer',
                                  client_token='T', journal=self.journal,
                                  name='l1')
        self.assertIn('idemclient[octavia]', str(error))
        self.assertEqual([], self.posts())
