"""``idemclient.api`` from a Python program on openstacksdk, against the
local real cloud: the crash matrix through the API (a network, killed at
every point), the API and the command finding each other's resources with
one token, from this host and another, tasks by tag, and the command's
retries."""

import json
import os
import subprocess
import sys

import openstack.connection

from idemclient import api
from idemclient.tests.functional import base
from idemclient.tests.functional import crash_matrix
from idemclient.tests.functional import proxy as proxy_mod
from idemclient.tests.functional import test_network_token

PROGRAM = (sys.executable, '-m', 'idemclient.tests.functional.api_run')


class ApiTestCase(test_network_token.NeutronTestCase):

    def program(self, name, text, token, tag='-'):
        return PROGRAM + ('network', token, tag, json.dumps(
            {'name': name, 'description': text}))

    def api(self, text, token, env=None, journal=None, tag='-'):
        """The program's network create, as ``osc`` runs the command."""
        return subprocess.run(
            self.program('net-' + self.uid, text, token, tag),
            capture_output=True, text=True, timeout=300,
            stdin=subprocess.DEVNULL, env=base.osc_env(
                self.user, journal or self.journal, env))

    def connection(self):
        name, password, project = base.USERS[self.user]
        return openstack.connection.Connection(
            auth_url=base.AUTH_URL, username=name, password=password,
            project_name=project, user_domain_name='Default',
            project_domain_name='Default', region_name='RegionOne',
            identity_api_version='3', interface='public')

    def command(self, text, token, journal=None):
        return self.osc('network', 'create', '--description', text,
                        '--client-token', token, 'net-' + self.uid,
                        '-f', 'json', journal=journal)


class TestApiCrashMatrix(crash_matrix.CrashMatrix, ApiTestCase):
    """The crash matrix, every point, with the API's program killed."""

    collection = 'networks'

    def make(self, text, token, env=None):
        return self.api(text, token, env)

    def start_create(self, text, token, env):
        proc = subprocess.Popen(
            self.program('net-' + self.uid, text, token),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL, start_new_session=True,
            env=base.osc_env(self.user, self.journal, env))
        self.addCleanup(self._reap, proc)
        return proc


class TestApiAndCommand(ApiTestCase):

    def test_the_command_finds_what_the_api_made_and_back(self):
        text, token = 'api-first ' + self.uid, 'api-a-' + self.uid
        made = json.loads(self.assertOK(self.api(text, token)).stdout)
        self.assertEqual('created', made['outcome'])
        for journal in (None, os.path.join(self.tmp, 'host2.sqlite')):
            shown = json.loads(self.assertOK(
                self.command(text, token, journal)).stdout)
            self.assertEqual((made['id'], 'existed'),
                             (shown['id'], shown['idemclient_outcome']))
        self.assertOneItem('networks', text, made['id'])

        text, token = 'command-first ' + self.uid, 'api-b-' + self.uid
        made = json.loads(self.assertOK(self.command(text, token)).stdout)
        for journal in (None, os.path.join(self.tmp, 'host3.sqlite')):
            found = json.loads(self.assertOK(
                self.api(text, token, journal=journal)).stdout)
            self.assertEqual((made['id'], 'existed'),
                             (found['id'], found['outcome']))
        self.assertOneItem('networks', text, made['id'])

    def test_a_server_the_command_made_is_found_by_the_api(self):
        name, token = 'api-srv-' + self.uid, 'api-srv-' + self.uid
        made = json.loads(self.assertOK(self.osc(
            *(base.CREATE + ('--client-token', token, name, '-f',
                             'json')))).stdout)
        self.addCleanup(self.osc, 'server', 'delete', made['id'])
        flavor = json.loads(self.assertOK(self.osc(
            'flavor', 'show', 'm1.tiny', '-f', 'json')).stdout)['id']
        image = json.loads(self.assertOK(self.osc(
            'image', 'show', 'cirros', '-f', 'json')).stdout)['id']
        network = json.loads(self.assertOK(self.osc(
            'network', 'show', 'private', '-f', 'json')).stdout)['id']
        # base.CREATE's --network private, as OSC passes it to the SDK
        found = json.loads(self.assertOK(subprocess.run(
            PROGRAM + ('server', token, '-', json.dumps({
                'name': name, 'flavor_id': flavor, 'image_id': image,
                'networks': [{'uuid': network}]})),
            capture_output=True, text=True, timeout=300,
            env=base.osc_env(self.user, os.path.join(
                self.tmp, 'host2.sqlite')))).stdout)
        self.assertEqual((made['id'], 'existed'),
                         (found['id'], found['outcome']))

    def test_task_by_tag_from_another_host_and_no_such_task(self):
        text, tag = 'tagged ' + self.uid, 'api-tag-' + self.uid
        made = json.loads(self.assertOK(self.api(text, '-', tag=tag))
                          .stdout)
        self.described('networks', text)  # deleted at the end
        conn = self.connection()
        shown = api.task(conn, tag=tag,
                         journal=os.path.join(self.tmp, 'other.sqlite'))
        self.assertEqual((made['task_id'], made['id'], 'succeeded'),
                         (shown['uuid'], shown['resource'], shown['state']))
        self.assertEqual(shown['uuid'], api.task(
            conn, made['task_id'], journal=self.journal)['uuid'])
        self.assertRaises(LookupError, api.task, conn,
                          tag='never-' + self.uid, journal=self.journal)

    def test_a_lost_answer_is_retried_inside_the_api(self):
        text, token = 'api-lost ' + self.uid, 'api-lost-' + self.uid
        with proxy_mod.Proxy(self.endpoint()) as proxy:
            proxy.rule('POST', r'/networks$', 'drop', times=1)
            run = self.assertOK(self.api(text, token,
                                         self.endpoint_via(proxy)))
            self.assertEqual([201], proxy.statuses('POST', r'/networks$'))
        self.assertIn('trying again in', run.stderr)
        made = json.loads(run.stdout)
        self.assertEqual('created', made['outcome'])
        self.assertOneItem('networks', text, made['id'])
