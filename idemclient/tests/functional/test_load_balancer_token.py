"""``openstack loadbalancer create --client-token`` (python-octaviaclient's
command) against the local real Octavia API, its VIPs on the local
Neutron's ``private-subnet``: the crash matrix, 8 hosts, retries and
another host, another project, other parameters, and the tasks (the cloud's
status updater moves a load balancer to ACTIVE, or to ERROR for a name with
``error-me``), every outcome counted through Octavia's API."""

import json
import os

from idemclient.tests.functional import base
from idemclient.tests.functional import crash_matrix

SUBNET = 'private-subnet'
ERROR_MARKER = 'error-me'  # the cloud's status updater: to ERROR


class LoadBalancerTestCase(base.FunctionalTestCase):

    collection = 'lbaas/loadbalancers'

    def octavia(self, method, path, user='admin', **kwargs):
        sess = base.session_for(user)
        return sess.request(self.endpoint(user) + '/v2.0/lbaas' + path,
                            method, raise_exc=False, **kwargs)

    @staticmethod
    def endpoint(user='admin'):
        return base.session_for(user).get_endpoint(
            service_type='load-balancer', interface='public').rstrip('/')

    def endpoint_via(self, proxy):
        return {'OS_LOAD_BALANCER_ENDPOINT_OVERRIDE': proxy.url('/')}

    def proxy_upstream(self):
        return self.endpoint()

    def named(self, name, user='admin'):
        """Every load balancer called ``name`` (whatever its status),
        deleted at the end."""
        found = [lb for lb in self.octavia('GET', '/loadbalancers', user,
                                           params={'name': name}).json()[
            'loadbalancers'] if lb['provisioning_status'] != 'DELETED']
        for lb in found:
            self.addCleanup(self.delete_when_it_may, lb['id'])
        return found

    def delete_when_it_may(self, lb_id):
        """Octavia refuses a delete while the load balancer is pending."""
        self.wait_for(lambda: self.octavia(
            'DELETE', '/loadbalancers/%s?cascade=true' % lb_id
        ).status_code in (204, 404), timeout=30, interval=0.5,
            what='load balancer %s to be deletable' % lb_id)

    def create_args(self, name, token, user='admin'):
        return ('loadbalancer', 'create', '--vip-subnet-id', SUBNET,
                '--name', name, '--client-token', token)

    def make(self, name, token, journal=None, env=None, fmt='json',
             user='admin'):
        return self.osc(*(self.create_args(name, token, user) + (
            '-f', fmt)), journal=journal, env=env, user=user)

    # What the crash matrix asks of a case.
    def held(self, name):
        return [lb['id'] for lb in self.named(name)]

    def assertCreatedOnce(self, name, token, lb_id):
        self.assertEqual([lb_id], self.held(name),
                         'duplicate or lost load balancer %r' % name)

    def before_trial(self):
        pass


class TestLoadBalancerToken(crash_matrix.CrashMatrix,
                            crash_matrix.OneCreateAcrossHosts,
                            LoadBalancerTestCase):

    collection = LoadBalancerTestCase.collection  # over CrashMatrix's None

    def start_create(self, name, token, env):
        return self.start_osc(*self.create_args(name, token), env=env)

    def test_retries_and_another_host_print_one(self):
        name, token = 'lb-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(name, token)).stdout)
        again = self.assertOK(self.make(name, token, fmt='value'))
        self.assertIn('no create was sent', again.stderr)
        self.assertIn(first['id'], again.stdout)
        elsewhere = json.loads(self.assertOK(self.make(
            name, token, journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertEqual(('created', 'existed'),
                         (first['idemclient_outcome'],
                          elsewhere['idemclient_outcome']))
        self.assertEqual(first['id'], elsewhere['id'])
        self.assertCreatedOnce(name, token, first['id'])

    def test_the_markers_are_tags_of_the_create_itself(self):
        """Octavia stored them with the load balancer: they are there in
        the create's own answer, beside the user's tag."""
        name, token = 'lbt-' + self.uid, 'tok-' + self.uid
        made = json.loads(self.assertOK(self.osc(
            *(self.create_args(name, token) + ('--tag', 'web', '-f',
                                               'json')))).stdout)
        tags = made['tags'] if isinstance(made['tags'], list) else \
            made['tags'].split(',')
        [entry] = self.journal_entries()
        self.assertIn('web', tags)
        self.assertIn(entry['marker'], tags)
        stored = self.octavia('GET', '/loadbalancers/' + made['id']).json()
        self.assertEqual(sorted(tags), sorted(stored['loadbalancer']['tags']))

    def test_another_project_never_sees_the_marker(self):
        name, token = 'lbp-' + self.uid, 'tok-' + self.uid
        mine = json.loads(self.assertOK(self.make(
            name, token, user='demo')).stdout)
        theirs = json.loads(self.assertOK(self.make(
            name, token, user='demo2',
            journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertNotEqual(mine['id'], theirs['id'])
        self.assertEqual(2, len(self.held(name)))

    def test_other_parameters_are_refused_from_any_host(self):
        name, token = 'lbo-' + self.uid, 'tok-' + self.uid
        self.assertOK(self.make(name, token))
        for journal in (None, os.path.join(self.tmp, 'h2')):
            other = self.osc(*(self.create_args(name, token) + (
                '--description', 'other')), journal=journal)
            self.assertEqual(1, other.returncode, other.stderr)
            self.assertIn('other parameters', other.stderr)
        self.assertEqual(1, len(self.held(name)))

    def test_a_lost_answer_is_found_by_the_retry(self):
        """Octavia made it and the answer never came (the proxy dropped
        it): the command's own retry finds it, one load balancer."""
        from idemclient.tests.functional import proxy as proxy_mod
        name, token = 'lbl-' + self.uid, 'tok-' + self.uid
        with proxy_mod.Proxy(self.proxy_upstream()) as proxy:
            proxy.rule('POST', r'/%s$' % self.collection, 'drop', times=1)
            made = self.assertOK(self.osc(
                *(self.create_args(name, token) + ('-f', 'json')),
                env=self.endpoint_via(proxy)))
            # Made by the first POST; the retry looked it up, sent none.
            self.assertEqual([201], proxy.statuses(
                'POST', r'/%s$' % self.collection), proxy.seen)
        shown = json.loads(made.stdout)
        self.assertEqual('created', shown['idemclient_outcome'])
        self.assertCreatedOnce(name, token, shown['id'])


class TestLoadBalancerTasks(LoadBalancerTestCase):

    def test_accepted_then_succeeded_by_tag_and_by_id_from_any_host(self):
        name, token, tag = 'lbk-' + self.uid, 'tok-' + self.uid, \
            'tag-' + self.uid
        made = json.loads(self.assertOK(self.osc(
            *(self.create_args(name, token) + ('--task-tag', tag, '-f',
                                               'json')))).stdout)
        [entry] = self.journal_entries()
        elsewhere = os.path.join(self.tmp, 'h2')
        shown = json.loads(self.assertOK(self.osc(
            'task', 'show', '--tag', tag, '-f', 'json',
            journal=elsewhere)).stdout)
        self.assertEqual(('load_balancer.create', made['id'], entry['uuid']),
                         (shown['task'], shown['resource'], shown['uuid']))
        self.assertIn(shown['state'], ('accepted', 'succeeded'))
        self.wait_for(lambda: json.loads(self.osc(
            'task', 'show', entry['uuid'], '-f', 'json',
            journal=elsewhere).stdout)['state'] == 'succeeded',
            timeout=30, interval=0.5, what='the load balancer to be ACTIVE')

    def test_an_error_is_failed(self):
        name, token = 'lb-%s-%s' % (ERROR_MARKER, self.uid), \
            'tok-' + self.uid
        made = json.loads(self.assertOK(self.make(name, token)).stdout)
        [entry] = self.journal_entries()
        self.wait_for(lambda: json.loads(self.osc(
            'task', 'show', entry['uuid'], '-f', 'json').stdout)['state'] ==
            'failed', timeout=30, interval=0.5, what='ERROR')
        shown = json.loads(self.osc('task', 'show', entry['uuid'], '-f',
                                    'json').stdout)
        self.assertEqual(made['id'], shown['resource'])
        self.assertIn('ERROR', shown['error'])

    def test_resume_finds_what_a_killed_run_sent(self):
        name, token = 'lbr-' + self.uid, 'tok-' + self.uid
        killed = self.make(name, token, env={
            'IDEMCLIENT_FAILPOINT': 'after-response'})
        self.assertNotEqual(0, killed.returncode)
        [lb_id] = self.held(name)
        [entry] = self.journal_entries()
        self.assertEqual('pending', entry['state'])
        resumed = json.loads(self.assertOK(self.osc(
            'task', 'resume', '--all', '-f', 'json')).stdout)
        self.assertEqual([(entry['uuid'], lb_id)],
                         [(row['ID'], row['Resource']) for row in resumed])
        [entry] = self.journal_entries()
        self.assertEqual(('done', [lb_id]),
                         (entry['state'], json.loads(entry['resource_ids'])))
