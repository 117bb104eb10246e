"""``openstack keypair create --client-token`` against the real cloud."""

import os
import stat

from cryptography.hazmat.primitives import serialization

from idemclient.tests.functional import base
from idemclient.tests.functional import proxy as proxy_mod


def public_of(private_pem):
    key = serialization.load_ssh_private_key(private_pem.encode(), None)
    return key.public_key().public_bytes(
        serialization.Encoding.OpenSSH,
        serialization.PublicFormat.OpenSSH).decode()


class TestKeypairToken(base.FunctionalTestCase):

    def keypair(self, name, user='admin'):
        response = self.compute('GET', '/os-keypairs/%s' % name, user)
        if response.status_code == 404:
            return None
        self.addCleanup(self.compute, 'DELETE', '/os-keypairs/%s' % name,
                        user)
        return response.json()['keypair']

    def material(self, public_key):
        return ' '.join(public_key.split()[:2])

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
                                       proxy.url('/v2.1')})
        self.assertEqual(1, lost.returncode)
        self.assertNotIn('PRIVATE KEY', lost.stdout)
        cloud = self.keypair(name)
        self.assertIsNotNone(cloud)
        again = self.assertOK(self.osc('keypair', 'create',
                                       '--client-token', token, name))
        self.assertEqual(self.material(cloud['public_key']),
                         public_of(again.stdout))
