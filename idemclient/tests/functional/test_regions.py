"""One token in two regions of the local cloud: two requests. RegionTwo
is the same services as RegionOne (``cloud/seed.py``), so what keeps the
two apart is idemclient's scope: the journal's, the markers' and the
reservations'; counted through the API."""

import json
import os

from idemclient.tests.functional import test_network_token

TWO = {'OS_REGION_NAME': 'RegionTwo'}


class TestRegions(test_network_token.NeutronTestCase):

    def create(self, text, token, env=None, journal=None):
        return json.loads(self.assertOK(self.osc(
            'network', 'create', '--description', text, '--client-token',
            token, '-f', 'json', 'net-' + self.uid, env=env,
            journal=journal)).stdout)

    def test_one_token_is_one_network_per_region(self):
        text, token = 'rg-' + self.uid, 'tok-' + self.uid
        one = self.create(text, token)
        two = self.create(text, token, env=TWO)
        self.assertNotEqual(one['id'], two['id'])
        # Retries, here and from another host, each in its own region.
        other = os.path.join(self.tmp, 'h2')
        self.assertEqual(one['id'], self.create(text, token)['id'])
        self.assertEqual(two['id'], self.create(text, token, env=TWO)['id'])
        self.assertEqual(two['id'], self.create(
            text, token, env=TWO, journal=other)['id'])
        self.assertEqual(one['id'], self.create(
            text, token, journal=other)['id'])
        self.assertEqual(sorted([one['id'], two['id']]), sorted(
            item['id'] for item in self.described('networks', text)))
        entries = self.journal_entries()
        self.assertEqual(2, len({e['scope'] for e in entries}), entries)
        self.assertEqual(sorted([[one['id']], [two['id']]]), sorted(
            json.loads(e['resource_ids']) for e in entries))
