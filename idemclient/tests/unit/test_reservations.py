"""Reservations over a Glance answering through requests-mock: every
answer Glance can give a reservation's create, and the outcome record."""

import json
import re
import uuid

import testtools

from idemclient.clients import errors
from idemclient.clients import image as image_api
from idemclient import reservations
from idemclient.tests.unit import shared

GLANCE = 'http://glance.example/v2'
RID = reservations.reservation_id('scope', 'RegionOne', 'volume.create',
                                  'token:T')


class TestReservationId(testtools.TestCase):

    def test_one_id_per_request_and_generation_lowercase(self):
        parts = ('scope', 'RegionOne', 'volume.create', 'token:T')
        self.assertEqual(RID, reservations.reservation_id(*parts))
        self.assertEqual(str(uuid.UUID(RID)), RID)  # lowercase, canonical
        others = {reservations.reservation_id(*changed) for changed in (
            ('scope2',) + parts[1:], parts[:1] + ('RegionTwo',) + parts[2:],
            parts[:2] + ('network.create', 'token:T'),
            parts[:3] + ('token:U',), parts[:3] + ('task:T',))}
        others.add(reservations.reservation_id(*parts, generation=1))
        self.assertEqual(6, len(others))
        self.assertNotIn(RID, others)


class TestReserve(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.glance = self.useFixture(shared.MockedService(GLANCE, 'image'))
        self.images = image_api.ImageClient(self.glance.adapter)

    def created(self, **answer):
        self.post = self.glance.mock.post(GLANCE + '/images', **answer)

    def shown(self, **answer):
        self.get = self.glance.mock.get(GLANCE + '/images/' + RID, **answer)

    def reserve(self, nonce='req-mine'):
        return reservations.reserve(self.images, RID, nonce,
                                    'volume.create')

    def test_a_new_reservation_is_held(self):
        self.created(status_code=201, json={'id': RID, 'status': 'queued'})
        decision = self.reserve()
        self.assertEqual(reservations.HELD, decision.state)
        sent = self.post.last_request.json()
        self.assertEqual(
            (RID, 'private', True, 'req-mine', 'volume.create'),
            (sent['id'], sent['visibility'], sent['os_hidden'],
             sent[reservations.NONCE_KEY],
             sent[reservations.OPERATION_KEY]))
        self.assertEqual(1, self.post.call_count)

    def test_a_409_with_this_attempts_nonce_is_its_own_lost_answer(self):
        self.created(status_code=409, json={})
        self.shown(json={'id': RID, reservations.NONCE_KEY: 'req-mine'})
        self.assertEqual(reservations.HELD, self.reserve().state)

    def test_a_409_with_another_nonce_is_anothers(self):
        self.created(status_code=409, json={})
        self.shown(json={'id': RID, reservations.NONCE_KEY: 'req-theirs',
                         reservations.RESOURCES_KEY: '["v1"]'})
        decision = self.reserve()
        self.assertEqual((reservations.OTHERS, ['v1']),
                         (decision.state, decision.resource_ids))

    def test_a_409_then_404_is_gone(self):
        self.created(status_code=409, json={})
        self.shown(status_code=404, json={})
        self.assertEqual(reservations.GONE, self.reserve().state)

    def test_refused_by_policy_or_quota_is_unavailable(self):
        for status in (403, 413):
            self.created(status_code=status, json={'message': 'no'})
            decision = self.reserve()
            self.assertEqual(reservations.UNAVAILABLE, decision.state)
            self.assertIn('HTTP %d' % status, decision.reason)
        self.assertEqual(reservations.UNAVAILABLE, reservations.reserve(
            None, RID, 'req-mine', 'volume.create').state)

    def test_any_other_error_is_raised(self):
        self.created(status_code=500, json={'message': 'boom'})
        exc = self.assertRaises(errors.ApiError, self.reserve)
        self.assertEqual(500, exc.status_code)

    def test_the_outcome_is_recorded_and_read_back(self):
        patch = self.glance.mock.patch(GLANCE + '/images/' + RID, json={})
        reservations.record(self.images, RID, ['v1', 'v2'])
        self.assertEqual('application/openstack-images-v2.1-json-patch',
                         patch.last_request.headers['Content-Type'])
        [op] = patch.last_request.json()
        self.assertEqual(('add', '/' + reservations.RESOURCES_KEY),
                         (op['op'], op['path']))
        self.assertEqual(['v1', 'v2'], reservations.resource_ids_of(
            {reservations.RESOURCES_KEY: op['value']}))

    def test_an_outcome_not_yet_recorded_or_unreadable_is_none(self):
        for body in (None, {}, {reservations.RESOURCES_KEY: ''},
                     {reservations.RESOURCES_KEY: 'not json'},
                     {reservations.RESOURCES_KEY: '[]'},
                     {reservations.RESOURCES_KEY: json.dumps({'a': 1})}):
            self.assertIsNone(reservations.resource_ids_of(body), body)

    def test_read_is_none_when_there_is_none(self):
        self.glance.mock.get(re.compile(GLANCE + '/images/.*'),
                             status_code=404, json={})
        self.assertIsNone(self.images.get(RID))

    def test_glances_html_refusal_is_one_line(self):
        """Glance answers a policy refusal with webob's HTML page: the
        reason is its words, on one line."""
        self.created(status_code=403, text=(
            '<html>\n <head>\n  <title>403 Forbidden</title>\n </head>\n'
            ' <body>\n  <h1>403 Forbidden</h1>\n  You are not authorized to '
            'complete add_image action.<br /><br />\n\n\n\n </body>\n'
            '</html>'), headers={'Content-Type': 'text/html'})
        self.assertEqual(
            'the image service answered HTTP 403: 403 Forbidden You are not '
            'authorized to complete add_image action.',
            self.reserve().reason)
