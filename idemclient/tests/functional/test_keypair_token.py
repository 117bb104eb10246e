"""``openstack keypair create --client-token`` against the real cloud."""

import json
import os
import stat

from cryptography.hazmat.primitives import serialization

from idemclient.tests.functional import base
from idemclient.tests.functional import crash_matrix
from idemclient.tests.functional import proxy as proxy_mod


def public_of(private_pem):
    key = serialization.load_ssh_private_key(private_pem.encode(), None)
    return key.public_key().public_bytes(
        serialization.Encoding.OpenSSH,
        serialization.PublicFormat.OpenSSH).decode()


class KeypairTestCase(base.FunctionalTestCase):

    def keypair(self, name, user='admin'):
        response = self.compute('GET', '/os-keypairs/%s' % name, user)
        if response.status_code == 404:
            return None
        self.addCleanup(self.compute, 'DELETE', '/os-keypairs/%s' % name,
                        user)
        return response.json()['keypair']

    def material(self, public_key):
        return ' '.join(public_key.split()[:2])

    def marked_with(self, token, user='admin'):
        """The names of the user's keypairs whose comment carries the
        token's marker (it ends with ``-<token>``)."""
        listed = self.compute('GET', '/os-keypairs', user).json()['keypairs']
        return [k['keypair']['name'] for k in listed
                if any(word.endswith('-' + token) for word in
                       k['keypair']['public_key'].split()[2:])]


class TestKeypairCrash(crash_matrix.CrashMatrix, crash_matrix.SetsAsSets,
                       KeypairTestCase):
    """The crash matrix for the one kind whose journal holds a secret (the
    generated private key): one key on the cloud, and one private key
    file, mode 0600, matching it and never rewritten with another key."""

    collection = 'os-keypairs'
    another_host = False  # its private key is only in the first's journal
    reserves = False  # Nova refuses a second key name itself

    def key_file(self, name):
        return os.path.join(self.tmp, name + '.pem')

    def create_args(self, name, token):
        return ('keypair', 'create', '--client-token', token,
                '--private-key', self.key_file(name), name)

    def make(self, name, token, env=None, journal=None):
        return self.osc(*(self.create_args(name, token) + ('-f', 'json')),
                        env=env, journal=journal)

    def held(self, name):
        return [name] if self.keypair(name) else []

    def proxy_upstream(self):
        return base.compute_endpoint()

    def endpoint_via(self, proxy):
        return {'OS_COMPUTE_ENDPOINT_OVERRIDE': proxy.url('/v2.1')}

    def assertCreatedOnce(self, name, token, item_id):
        self.assertEqual(name, item_id)
        self.assertEqual([name], self.marked_with(token))
        path = self.key_file(name)
        self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        with open(path) as f:
            private = f.read()
        self.assertEqual(self.material(self.keypair(name)['public_key']),
                         public_of(private))
        self.assertOK(self.make(name, token))
        with open(path) as f:
            self.assertEqual(private, f.read(), 'the key file was rewritten '
                             'with another key')
        [entry] = self.journal_entries()[-1:]
        self.assertEqual('done', entry['state'])

    def test_kill_before_the_key_file_is_written(self):
        self.kill_trials('before-key-file')

    def test_killed_then_another_host_then_this_one(self):
        name, token = 'kh-' + self.uid, 'tok-' + self.uid
        killed = self.make(name, token,
                           env={'IDEMCLIENT_FAILPOINT': 'after-response'})
        self.assertEqual(-9, killed.returncode, killed.stderr)
        other = self.make(name, token, journal=os.path.join(self.tmp, 'h2'))
        self.assertEqual(1, other.returncode, other.stdout)
        self.assertIn('its private key is only in that host\'s journal',
                      other.stderr)
        self.assertFalse(os.path.exists(self.key_file(name)) and
                         os.path.getsize(self.key_file(name)))
        again = json.loads(self.assertOK(self.make(name, token)).stdout)
        self.assertCreatedOnce(name, token, again['id'])


class TestKeypairToken(KeypairTestCase):

    def test_generated_key_is_the_same_on_every_run(self):
        name, token = 'k-' + self.uid, 'tok-' + self.uid
        first = self.assertOK(self.osc('keypair', 'create', '--client-token',
                                       token, name))
        again = self.assertOK(self.osc('keypair', 'create',
                                       '--client-token', token, name))
        self.assertIn('OPENSSH PRIVATE KEY', first.stdout)
        self.assertEqual(first.stdout, again.stdout)
        cloud = self.keypair(name)
        self.assertEqual(public_of(first.stdout),
                         self.material(cloud['public_key']))

    def test_private_key_file_is_0600_and_stable(self):
        name, token = 'k-' + self.uid, 'tok-' + self.uid
        path = os.path.join(self.tmp, 'k.pem')
        for _ in range(2):
            self.assertOK(self.osc('keypair', 'create', '--client-token',
                                   token, '--private-key', path, name))
            self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
            with open(path) as f:
                self.assertEqual(self.material(self.keypair(name)[
                    'public_key']), public_of(f.read()))

    def test_private_key_file_without_token_is_0600_too(self):
        name = 'k-' + self.uid
        path = os.path.join(self.tmp, 'plain.pem')
        self.assertOK(self.osc('keypair', 'create', '--private-key', path,
                               name))
        self.keypair(name)
        self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))

    def test_supplied_public_key_from_two_hosts(self):
        name, token = 'k-' + self.uid, 'tok-' + self.uid
        generated = self.assertOK(self.osc('keypair', 'create',
                                           'seed-' + self.uid))
        self.keypair('seed-' + self.uid)
        pub = os.path.join(self.tmp, 'k.pub')
        with open(pub, 'w') as f:
            f.write(public_of(generated.stdout) + '\n')
        for journal in (self.journal, os.path.join(self.tmp, 'other')):
            self.assertOK(self.osc('keypair', 'create', '--client-token',
                                   token, '--public-key', pub, name,
                                   journal=journal))
        self.assertEqual(public_of(generated.stdout),
                         self.material(self.keypair(name)['public_key']))

    def test_name_taken_by_another_key_is_refused(self):
        name = 'k-' + self.uid
        self.assertOK(self.osc('keypair', 'create', name))
        self.keypair(name)
        result = self.osc('keypair', 'create', '--client-token', 't', name)
        self.assertEqual(1, result.returncode)
        self.assertIn('Keypair name %s is already taken by a different key. '
                      'Nothing was sent.' % name, result.stderr)

    def test_generated_key_from_another_host_is_not_reinvented(self):
        name, token = 'k-' + self.uid, 'tok-' + self.uid
        self.assertOK(self.osc('keypair', 'create', '--client-token', token,
                               name))
        before = self.keypair(name)['public_key']
        result = self.osc('keypair', 'create', '--client-token', token,
                          name, journal=os.path.join(self.tmp, 'other'))
        self.assertEqual(1, result.returncode)
        self.assertIn("Keypair %s was created with client token '%s' from "
                      'another host' % (name, token), result.stderr)
        self.assertEqual(before, self.keypair(name)['public_key'])

    def test_lost_response_still_gives_the_matching_private_key(self):
        name, token = 'k-' + self.uid, 'tok-' + self.uid
        endpoint = base.compute_endpoint()
        with proxy_mod.Proxy(endpoint) as proxy:
            proxy.rule('POST', r'/os-keypairs$', 'drop')
            lost = self.osc('keypair', 'create', '--client-token', token,
                            name, env={'OS_COMPUTE_ENDPOINT_OVERRIDE':
                                       proxy.url('/v2.1'),
                                       'IDEMCLIENT_RETRIES': '0'})
        self.assertEqual(75, lost.returncode, lost.stderr)  # run it again
        self.assertNotIn('PRIVATE KEY', lost.stdout)
        cloud = self.keypair(name)
        self.assertIsNotNone(cloud)
        again = self.assertOK(self.osc('keypair', 'create',
                                       '--client-token', token, name))
        self.assertEqual(self.material(cloud['public_key']),
                         public_of(again.stdout))
