"""Several commands in one ``openstack`` process, as its interactive shell
and ``openstack < file`` run them: a token given to one command must not
reach the next, whether the first succeeded or failed."""

import json
import subprocess

from idemclient.tests.functional import base
from idemclient.tests.functional import test_volume_token


class TestOneShell(test_volume_token.VolumeTestCase):

    def shell(self, *commands):
        """Run ``commands`` through one ``openstack`` reading them from
        its standard input."""
        return subprocess.run(
            [base.OPENSTACK], input=''.join(c + '\n' for c in commands),
            capture_output=True, text=True, timeout=300,
            env=base.osc_env('admin', self.journal))

    def test_a_plain_create_after_one_with_a_token_is_plain(self):
        first, second = 'sh1-' + self.uid, 'sh2-' + self.uid
        run = self.shell(
            'volume create --client-token t-%s --size 1 %s' % (self.uid,
                                                               first),
            'volume create --size 1 %s' % second)
        self.assertNotIn('Client token', run.stderr)
        [one] = self.volumes_named(first)
        [two] = self.volumes_named(second)
        self.assertIn('idemclient:marker', one['metadata'])
        self.assertEqual({}, two['metadata'])
        [entry] = self.journal_entries()
        self.assertEqual([one['id']], json.loads(entry['resource_ids']))

    def test_a_second_token_makes_its_own(self):
        first, second = 'sh4-' + self.uid, 'sh5-' + self.uid
        run = self.shell(*('volume create --client-token %s-%s --size 1 %s'
                           % (name, self.uid, name)
                           for name in (first, second)))
        self.assertNotIn('Client token', run.stderr)
        [one] = self.volumes_named(first)
        [two] = self.volumes_named(second)
        self.assertNotEqual(one['metadata']['idemclient:marker'],
                            two['metadata']['idemclient:marker'])
        self.assertEqual(2, len(self.journal_entries()))

    def test_debug_shows_the_lookup_the_journal_and_the_outcome(self):
        name = 'sh6-' + self.uid
        run = self.osc('--debug', 'volume', 'create', '--client-token',
                       'tok-' + self.uid, '--size', '1', name)
        self.assertEqual(0, run.returncode, run.stderr)
        [volume] = self.volumes_named(name)
        [entry] = self.journal_entries()
        for line in ('lookup of marker idem-', ' found nothing',
                     'journaled attempt 1 of entry %s (request id %s)'
                     % (entry['uuid'], entry['request_id']),
                     "created ['%s']" % volume['id']):
            self.assertIn(line, run.stderr)

    def test_a_plain_create_after_a_failed_one_with_a_token_is_plain(self):
        name = 'sh3-' + self.uid
        run = self.shell(
            'server create --client-token t-%s --flavor no-such-flavor '
            '--image cirros --nic none %s' % (self.uid, name),
            ' '.join(base.CREATE + ('--tag', 'mine', name)))
        self.assertIn('no-such-flavor', run.stderr)
        [server] = self.servers_named(name)
        body = self.compute('GET', '/servers/' + server['id']).json()[
            'server']
        self.assertEqual(['mine'], body['tags'])  # no marker of a token
        self.assertEqual([], self.journal_entries())
