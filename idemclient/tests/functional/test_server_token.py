"""``openstack server create --client-token`` against the real cloud."""

import json
import os
import uuid

from idemclient.tests.functional import base
from idemclient.tests.functional import proxy as proxy_mod


class TestServerToken(base.FunctionalTestCase):

    def test_retries_print_one_server_in_every_format(self):
        name, token = 'web-' + self.uid, 'tok-' + self.uid
        first = self.create_server(name, '--client-token', token)
        again = self.create_server(name, '--client-token', token)
        self.assertEqual(first['id'], again['id'])
        value = self.assertOK(self.osc(*(base.CREATE + (
            '--client-token', token, name, '-f', 'value', '-c', 'id'))))
        self.assertEqual(first['id'], value.stdout.strip())
        self.assertIn("Client token '%s': server %s was already created; no "
                      'create was sent.' % (token, first['id']), value.stderr)
        yaml_run = self.assertOK(self.osc(*(base.CREATE + (
            '--client-token', token, name, '-f', 'yaml'))))
        self.assertIn('id: %s' % first['id'], yaml_run.stdout)
        servers = self.servers_named(name)
        self.assertEqual([first['id']], [s['id'] for s in servers])
        # the marker is on the server itself, with its attempt's tag and
        # its task id's
        tags = servers[0]['tags']
        [entry] = self.journal_entries()
        self.assertEqual(3, len(tags), tags)
        self.assertIn('idem-tc-' + entry['uuid'].replace('-', ''), tags)
        [marker] = [t for t in tags if t.endswith('-' + token)]
        self.assertTrue(marker.startswith('idem-'), marker)
        [attempt] = [t for t in tags if t.startswith('idem-at-')]
        self.assertRegex(attempt, '^idem-at-[0-9a-f]{32}$')
        self.assertIn('idemclient:params', servers[0]['metadata'])
        [entry] = self.journal_entries()
        self.assertEqual(('done', [first['id']], 1),
                         (entry['state'], json.loads(entry['resource_ids']),
                          entry['attempts']))
        self.assertTrue(entry['response_request_id'].startswith('req-'))

    def test_a_server_without_a_network_nic_none(self):
        """The one test that boots with ``--nic none`` (every other boots
        on ``private``): no port, and a retry from another host finds it."""
        name, token = 'nonet-' + self.uid, 'tok-' + self.uid
        args = ('server', 'create', '--flavor', 'm1.tiny', '--image',
                'cirros', '--nic', 'none', '--client-token', token, name,
                '-f', 'json')
        first = json.loads(self.assertOK(self.osc(*args)).stdout)
        again = json.loads(self.assertOK(self.osc(*args, journal=os.path.join(
            self.tmp, 'other-host.sqlite'))).stdout)
        self.assertEqual((first['id'], 'existed'),
                         (again['id'], again['idemclient_outcome']))
        self.assertEqual([first['id']],
                         [s['id'] for s in self.servers_named(name)])
        self.assertEqual([], self.compute(
            'GET', '/servers/%s/os-interface' % first['id']).json()[
                'interfaceAttachments'])

    def test_same_token_other_parameters_is_refused(self):
        name, token = 'web-' + self.uid, 'tok-' + self.uid
        first = self.create_server(name, '--client-token', token)
        result = self.osc('server', 'create', '--flavor', 'm1.small',
                          '--image', 'cirros', '--network', 'private',
                          '--client-token', token, name)
        self.assertEqual(1, result.returncode)
        self.assertIn("Client token '%s' was already used on this host with "
                      'other parameters; different: ' % token, result.stderr)
        self.assertIn('flavor_id', result.stderr)
        self.assertIn('. Nothing was sent: repeat the first command exactly, '
                      'or use a new token.', result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        self.assertEqual([first['id']],
                         [s['id'] for s in self.servers_named(name)])

    def test_second_host_finds_the_first_hosts_server(self):
        name, token = 'web-' + self.uid, 'tok-' + self.uid
        first = self.create_server(name, '--client-token', token)
        other = os.path.join(self.tmp, 'other-host.sqlite')
        again = self.create_server(name, '--client-token', token,
                                   journal=other)
        self.assertEqual(first['id'], again['id'])
        self.assertEqual(1, len(self.servers_named(name)))
        # ...and checks the parameters there too, from the server's metadata
        refused = self.osc('server', 'create', '--flavor', 'm1.small',
                           '--image', 'cirros', '--network', 'private',
                           '--client-token', token, name,
                           journal=os.path.join(self.tmp, 'third.sqlite'))
        self.assertEqual(1, refused.returncode)
        self.assertIn("Client token '%s' was already used on the cloud with "
                      'other parameters' % token, refused.stderr)
        self.assertEqual(1, len(self.servers_named(name)))

    def test_same_token_in_another_project_is_another_request(self):
        name, token = 'web-' + self.uid, 'tok-' + self.uid
        mine = self.create_server(name, '--client-token', token, user='demo')
        theirs = self.create_server(name, '--client-token', token,
                                    user='demo2')
        self.assertNotEqual(mine['id'], theirs['id'])
        self.assertEqual([mine['id']], [
            s['id'] for s in self.servers_named(name, user='demo')])
        self.assertEqual([theirs['id']], [
            s['id'] for s in self.servers_named(name, user='demo2')])

    def test_bad_tokens_send_nothing(self):
        name = 'web-' + self.uid
        for token in ('', 'x' * 65, 'caf\u00e9'):
            result = self.osc(*(base.CREATE + ('--client-token', token,
                                               name)))
            self.assertEqual(1, result.returncode, result.stderr)
            self.assertEqual(1, len(result.stderr.strip().splitlines()),
                             result.stderr)
            self.assertIn('Invalid client token ', result.stderr)
            self.assertIn(': use 1 to 64 printable ASCII characters. Nothing '
                          'was sent.', result.stderr)
        self.assertEqual([], self.servers_named(name))
        self.assertFalse(os.path.exists(self.journal))

    def test_unusable_journal_sends_nothing_and_is_kept(self):
        name = 'web-' + self.uid
        with open(self.journal, 'wb') as f:
            f.write(b'not a journal' * 100)
        result = self.osc(*(base.CREATE + ('--client-token', 't', name)))
        self.assertEqual(1, result.returncode)
        self.assertIn('Cannot use the journal %s: ' % self.journal,
                      result.stderr)
        self.assertIn('left as it is', result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        with open(self.journal, 'rb') as f:
            self.assertEqual(b'not a journal' * 100, f.read())
        blocked = os.path.join(self.tmp, 'a-file')
        open(blocked, 'w').close()
        result = self.osc(*(base.CREATE + ('--client-token', 't', name)),
                          journal=os.path.join(blocked, 'journal.sqlite'))
        self.assertEqual(1, result.returncode)
        self.assertIn('Cannot create the journal ', result.stderr)
        self.assertIn('. Nothing was sent.', result.stderr)
        self.assertEqual([], self.servers_named(name))

    def test_read_only_journal_sends_nothing_and_is_kept(self):
        name = 'web-' + self.uid
        # Tokens of this run's own: a token's reservation outlives it.
        first = self.create_server(name, '--client-token', 'ro1-' + self.uid)
        with open(self.journal, 'rb') as f:
            before = f.read()
        for token, server in (('ro1-' + self.uid, name),
                              ('ro2-' + self.uid, name + '-b')):
            result = self.osc_read_only(
                self.tmp, *(base.CREATE + ('--client-token', token, server)))
            self.assertEqual(1, result.returncode, result.stderr)
            self.assertRegex(result.stderr, r'Cannot (use|write to) the '
                             r'journal \S+: it is read-only')
            self.assertEqual(1, len(result.stderr.strip().splitlines()),
                             result.stderr)
        self.assertEqual([first['id']],
                         [s['id'] for s in self.servers_named(name)])
        self.assertEqual([], self.servers_named(name + '-b'))
        with open(self.journal, 'rb') as f:
            self.assertEqual(before, f.read())

    def test_old_microversion_is_refused_before_sending(self):
        name = 'web-' + self.uid
        result = self.osc('--os-compute-api-version', '2.51',
                          *(base.CREATE + ('--client-token', 't', name)))
        self.assertEqual(1, result.returncode)
        self.assertIn('Client tokens and task tags need compute API 2.52 or '
                      'later', result.stderr)
        self.assertEqual([], self.servers_named(name))

    def test_multi_create_is_found_again(self):
        name, token = 'multi-' + self.uid, 'tok-' + self.uid
        first = self.create_server(name, '--min', '3', '--max', '3',
                                   '--client-token', token)
        servers = self.servers_named(name)
        self.assertEqual(3, len(servers))
        again = self.create_server(name, '--min', '3', '--max', '3',
                                   '--client-token', token,
                                   journal=os.path.join(self.tmp, 'h2'))
        self.assertIn(again['id'], [s['id'] for s in servers])
        self.assertEqual(first['id'], self.create_server(
            name, '--min', '3', '--max', '3', '--client-token', token)['id'])
        self.assertEqual(3, len(self.servers_named(name)))
        [entry] = self.journal_entries()
        self.assertEqual(sorted(s['id'] for s in servers),
                         sorted(json.loads(entry['resource_ids'])))

    def test_wait_ending_in_error_still_records_the_server(self):
        flavor = self.unschedulable_flavor()
        name, token = 'err-' + self.uid, 'tok-' + self.uid
        args = ('server', 'create', '--flavor', flavor, '--image', 'cirros',
                '--network', 'private', '--wait', '--client-token', token,
                name)
        result = self.osc(*args)
        self.assertEqual(1, result.returncode, result.stdout)
        [server] = self.servers_named(name)
        self.assertEqual('ERROR', server['status'])
        [entry] = self.journal_entries()
        self.assertEqual(('done', [server['id']]),
                         (entry['state'], json.loads(entry['resource_ids'])))
        self.osc(*args)
        self.assertEqual(1, len(self.servers_named(name)))

    def test_response_lost_in_transit(self):
        name, token = 'lost-' + self.uid, 'tok-' + self.uid
        endpoint = base.compute_endpoint()
        with proxy_mod.Proxy(endpoint) as proxy:
            proxy.rule('POST', r'/servers$', 'drop')
            lost = self.osc(*(base.CREATE + ('--client-token', token, name)),
                            env={'OS_COMPUTE_ENDPOINT_OVERRIDE':
                                 proxy.url('/v2.1'),
                                 'IDEMCLIENT_RETRIES': '0'})
        # 75: "run the same command again" (sysexits EX_TEMPFAIL), not 1
        self.assertEqual(75, lost.returncode, lost.stdout)
        self.assertTrue(lost.stderr.startswith(
            'The outcome of the create is unknown'), lost.stderr)
        self.assertEqual(1, proxy.count('POST', r'/servers$'))
        [made] = self.servers_named(name)  # the cloud did create it
        self.assertEqual('pending', self.journal_entries()[0]['state'])
        again = self.create_server(name, '--client-token', token)
        self.assertEqual(made['id'], again['id'])
        self.assertEqual(1, len(self.servers_named(name)))
        self.assertEqual('done', self.journal_entries()[0]['state'])

    def test_without_token_nothing_changes(self):
        name = 'plain-' + self.uid
        server = self.create_server(name)
        self.assertEqual([server['id']],
                         [s['id'] for s in self.servers_named(name)])
        self.assertEqual([], self.servers_named(name)[0]['tags'])
        self.assertFalse(os.path.exists(self.journal))

    def test_task_tag_alone_protects_the_request(self):
        name, tag = 'task-' + self.uid, 'job-' + str(uuid.uuid4())
        first = self.create_server(name, '--task-tag', tag)
        again = self.create_server(name, '--task-tag', tag)
        self.assertEqual(first['id'], again['id'])
        self.assertEqual(1, len(self.servers_named(name)))
