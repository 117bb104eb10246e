"""The docs' Ansible example (``doc/source/examples/network-once.yml``),
run as written against the local cloud: the first play reports a change,
a second from another controller (its own journal) none, one network is
left, and the same token with another name fails the task."""

import os
import re
import subprocess
import sys

from idemclient.tests.functional import base

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                        '..', '..', 'doc', 'source', 'examples',
                        'network-once.yml')
ANSIBLE = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')


class TestAnsibleExample(base.FunctionalTestCase):

    user = 'demo'

    def play(self, name, controller):
        home = os.path.join(self.tmp, controller)
        env = base.osc_env(self.user, os.path.join(home, 'journal.sqlite'), {
            'PATH': os.path.dirname(base.OPENSTACK) + os.pathsep +
            os.environ.get('PATH', ''),
            'HOME': home, 'ANSIBLE_HOME': os.path.join(home, '.ansible'),
            'ANSIBLE_LOCAL_TEMP': os.path.join(home, 'tmp'),
            'ANSIBLE_NOCOLOR': '1', 'LC_ALL': 'C.UTF-8',
            # this test's Python runs the module, not whatever is on PATH
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable})
        os.makedirs(home, exist_ok=True)
        result = subprocess.run(
            [ANSIBLE, '-i', 'localhost,', PLAYBOOK, '-e',
             'network_token=ans-%s network_name=%s' % (self.uid, name)],
            capture_output=True, text=True, env=env, timeout=300,
            stdin=subprocess.DEVNULL)
        recap = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+).*?'
                          r'failed=(\d+)', result.stdout)
        self.assertIsNotNone(recap, result.stdout + result.stderr)
        return result, tuple(int(n) for n in recap.groups())

    def networks_named(self, name):
        sess = base.session_for(self.user)
        endpoint = sess.get_endpoint(service_type='network',
                                     interface='public').rstrip('/')
        found = sess.get(endpoint + '/v2.0/networks', params={
            'name': name}).json()['networks']
        for network in found:
            self.addCleanup(sess.delete, endpoint + '/v2.0/networks/' +
                            network['id'], raise_exc=False)
        return found

    def test_the_play_changes_once_and_leaves_one_network(self):
        name = 'ans-' + self.uid
        first, counts = self.play(name, 'controller1')
        self.assertEqual((0, (2, 1, 0)), (first.returncode, counts),
                         first.stdout)
        again, counts = self.play(name, 'controller2')
        self.assertEqual((0, (2, 0, 0)), (again.returncode, counts),
                         again.stdout)
        [network] = self.networks_named(name)
        self.assertIn('network %s' % network['id'], first.stdout)
        self.assertIn('network %s' % network['id'], again.stdout)

    def test_the_same_token_with_another_name_fails_the_task(self):
        name = 'ans-' + self.uid
        self.play(name, 'controller1')
        other, counts = self.play(name + '-b', 'controller1')
        self.assertEqual(2, other.returncode, other.stdout)
        self.assertEqual((0, 1), counts[1:])
        self.assertIn('with other parameters', other.stdout)
        self.assertEqual([], self.networks_named(name + '-b'))
        self.assertEqual(1, len(self.networks_named(name)))
