"""A create with a reservation, end to end in ``run_once``: a real journal,
a Glance answering through requests-mock as the real one does (explicit
ids refused twice, soft deletes, ``Date`` and ``created_at`` on one clock
the test moves), and a kind whose cloud is a list. Several hosts are
several journals."""

import argparse
import datetime
import email.utils
import re
import threading
import time
from unittest import mock

from keystoneauth1 import exceptions as ks_exceptions
import testtools

from idemclient import api
from idemclient.clients import errors
from idemclient.clients import image as image_api
from idemclient.clients import later
from idemclient import context
from idemclient import contract
from idemclient.core import idempotent
from idemclient.core import journal as jmod
from idemclient.core import registry
from idemclient import reservations
from idemclient.tests.unit import shared

GLANCE = 'http://glance.example/v2'
SCOPE = shared.SCOPE
PARAMS = {'name': 'data', 'size': 1}
LEASE = 60.0


class Clock:
    """Glance's clock and the client's, moved by the test and by sleeps."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def sleep(self, seconds):
        self.now += seconds

    def monotonic(self):
        return self.now


class FakeGlance:
    """Images by id, as Glance 33 answers for them (see
    ``shared/docs/glance-reservation.md``); ``refuse`` answers every
    create with that status (a policy, a quota)."""

    def __init__(self, mocker, clock):
        self.clock, self.images, self.deleted = clock, {}, set()
        self.refuse = None
        self.dated = True  # answers carry Glance's clock (``Date``)
        self.posts = 0
        mocker.post(GLANCE + '/images',
                    json=lambda request, context: self._post(request,
                                                             context))
        item = re.compile(GLANCE + '/images/[0-9a-f-]+$')
        mocker.get(item, json=self._get)
        mocker.get(re.compile(GLANCE + r'/images(\?.*)?$'), json=self._list)
        mocker.patch(item, json=self._patch)
        mocker.delete(item, json=self._delete)

    def _date(self, context):
        if not self.dated:
            return
        context.headers['Date'] = email.utils.formatdate(self.clock.now,
                                                         usegmt=True)

    def _post(self, request, context):
        self.posts += 1
        if self.refuse:
            context.status_code = self.refuse
            return {'message': 'refused'}
        body = request.json()
        if body['id'] in self.images or body['id'] in self.deleted:
            context.status_code = 409
            return {'message': 'Image with identifier %s already exists!'
                    % body['id']}
        self.put(body, self.clock.now)
        context.status_code = 201
        return self.images[body['id']]

    def put(self, body, created):
        """An image as if created at ``created`` (epoch seconds)."""
        self.images[body['id']] = dict(body, status='queued', created_at=(
            datetime.datetime.fromtimestamp(created, datetime.timezone.utc)
            .strftime('%Y-%m-%dT%H:%M:%SZ')))

    def _image_id(self, request):
        return request.path.rsplit('/', 1)[-1]

    def _get(self, request, context):
        self._date(context)
        image = self.images.get(self._image_id(request))
        if image is None:
            context.status_code = 404
            return {}
        return image

    def _list(self, request, context):
        """Glance's listing: hidden images only when asked for, other
        query parameters exact matches on properties, oldest first."""
        query = {k: v[0] for k, v in request.qs.items()
                 if k not in ('sort_key', 'sort_dir', 'limit', 'marker')}
        hidden = query.pop('os_hidden', 'false') == 'true'
        return {'images': sorted(
            (image for image in self.images.values()
             if bool(image.get('os_hidden')) == hidden and all(
                 str(image.get(k)).lower() == v for k, v in query.items())),
            key=lambda image: image['created_at'])}

    def _patch(self, request, context):
        image = self.images[self._image_id(request)]
        for op in request.json():
            image[op['path'].lstrip('/')] = op['value']
        return image

    def _delete(self, request, context):
        image_id = self._image_id(request)
        self.images.pop(image_id)
        self.deleted.add(image_id)
        context.status_code = 204
        return {}


class Cloud:
    """The kind's service: resources as (id, marker), in creation order."""

    def __init__(self):
        self.resources, self.creates, self.finds = [], 0, 0
        self.fingerprints = {}  # what a create recorded on its resource

    def marked(self, marker):
        return [rid for rid, mark in self.resources if mark == marker]


class Widgets(contract.Kind):
    noun = 'widget'

    def __init__(self, cloud, request, before_create=None):
        self.cloud, self.request = cloud, request
        self.before_create = before_create
        self.racing_at_send = None

    def bind(self, entry):
        return None

    def find(self, request):
        self.cloud.finds += 1
        found = self.cloud.marked(request.marker)
        return idempotent.Found('found:' + found[0], found[:1],
                                self.cloud.fingerprints.get(found[0])) \
            if found else None

    def fetch(self, resource_ids):
        known = [rid for rid, _ in self.cloud.resources]
        return 'fetched:' + resource_ids[0] if resource_ids[0] in known \
            else None

    def send(self, entry):
        self.racing_at_send = self.racing
        if self.before_create:
            self.before_create()
        self.cloud.creates += 1
        rid = 'w%d' % self.cloud.creates
        self.cloud.resources.append((rid, self.request.marker))
        self.cloud.fingerprints[rid] = self.request.fingerprint
        return 'created:' + rid, [rid], 'req-cloud'

    def discard(self, resource_id):
        self.cloud.resources = [r for r in self.cloud.resources
                                if r[0] != resource_id]


class FlowTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.service = self.useFixture(shared.MockedService(GLANCE,
                                                            'image'))
        self.glance = FakeGlance(self.service.mock, self.clock)
        self.images = image_api.ImageClient(self.service.adapter)
        self.cloud = Cloud()
        self.journals = {}
        self.said = []

    def journal(self, host):
        if host not in self.journals:
            self.journals[host] = self.useFixture(shared.TempJournal()).path
        return self.journals[host]

    def request(self, params=PARAMS, token='T'):
        return idempotent.Request.for_create('widget.create', SCOPE, params,
                                             token, None)

    def reservation(self, request, images='given'):
        return reservations.Reservation(
            self.images if images == 'given' else images, request,
            'RegionOne', LEASE, self.said.append, sleep=self.clock.sleep,
            monotonic=self.clock.monotonic)

    def run_on(self, host, params=PARAMS, before_create=None,
               images='given'):
        request = self.request(params)
        self.kind = Widgets(self.cloud, request, before_create)
        return self.run_once(host, request, self.kind,
                             self.reservation(request, images))

    def run_once(self, host, request, kind, reservation):
        """run_once, then wait for the outcome it writes meanwhile."""
        try:
            return idempotent.run_once(self.journal(host), request, kind,
                                       self.said.append,
                                       reservation=reservation)
        finally:
            reservation.recorded()

    def entry(self, host):
        with jmod.Journal.open(self.journal(host)) as journal:
            return journal.find(SCOPE.key, 'widget.create', 'token:T')

    def rid(self, generation=0):
        return reservations.reservation_id(SCOPE.key, 'RegionOne',
                                           'widget.create', 'token:T',
                                           generation)

    def outcome(self, generation=0):
        return reservations.resource_ids_of(
            self.glance.images.get(self.rid(generation)))


class TestHolder(FlowTestCase):

    def test_a_new_reservation_is_held_created_once_and_recorded(self):
        self.assertEqual('created:w1', self.run_on('a'))
        self.assertEqual((1, ['w1'], False),
                         (self.cloud.creates, self.outcome(),
                          self.kind.racing_at_send))
        entry = self.entry('a')
        self.assertEqual(('done', self.rid()), (entry.state,
                                                entry.reservation))
        image = self.glance.images[self.rid()]
        self.assertEqual((entry.nonce, 'widget.create', True, 'private'),
                         (image[reservations.NONCE_KEY],
                          image[reservations.OPERATION_KEY],
                          image['os_hidden'], image['visibility']))
        self.assertEqual([], self.said)

    def test_a_409_with_this_hosts_nonce_is_its_own_earlier_attempt(self):
        """The first run died after reserving (its answer lost, say): the
        rerun holds it by its nonce and creates once."""
        def died():
            raise KeyboardInterrupt
        self.assertRaises(KeyboardInterrupt, self.run_on, 'a',
                          before_create=died)
        self.assertEqual('created:w1', self.run_on('a'))
        self.assertEqual((1, ['w1'], 2), (self.cloud.creates,
                                          self.outcome(), self.glance.posts))

    def test_a_resource_made_without_one_is_found_before_reserving(self):
        """A token used before reservations existed: the lookup comes
        first, so nothing is reserved and nothing created."""
        request = self.request()
        self.cloud.resources.append(('old', request.marker))
        self.assertEqual('found:old', self.run_on('a'))
        self.assertEqual((0, None, 0), (self.cloud.creates, self.outcome(),
                                        self.glance.posts))
        self.assertEqual(('done', ['old']), (self.entry('a').state,
                                             self.entry('a').resource_ids))

    def test_a_rerun_that_finds_its_own_resource_records_the_outcome(self):
        """The holder died once its create was sent, before recording:
        its rerun finds the resource and writes the outcome on the
        reservation it holds, sending no second reservation."""
        request = self.request()
        kind = Widgets(self.cloud, request)
        send = kind.send

        def send_then_die(entry):
            send(entry)
            raise KeyboardInterrupt
        kind.send = send_then_die
        self.assertRaises(KeyboardInterrupt, self.run_once, 'a', request,
                          kind, self.reservation(request))
        self.assertIsNone(self.outcome())
        self.assertEqual('found:w1', self.run_on('a'))
        self.assertEqual((1, ['w1'], 1), (self.cloud.creates, self.outcome(),
                                          self.glance.posts))


class TestAnotherHost(FlowTestCase):

    def test_reads_the_outcome_when_the_lookup_finds_nothing(self):
        """A holder's resource whose marker the lookup cannot see (the
        kind's listing lags, say): the outcome on the reservation is it."""
        self.run_on('a')
        self.cloud.resources = [('w1', 'unmarked')]
        self.assertEqual('fetched:w1', self.run_on('b'))
        self.assertEqual(1, self.cloud.creates)

    def test_a_race_not_yet_settled_is_looked_at_while_reserving(self):
        """A kind that settles (servers) whose first lookup found a race
        that may still change looks again while the reservation is in
        flight, so it waits for one of the two requests, not both: Glance
        answers the reservation only once that lookup has started (or
        gives up waiting for it, which the test would see). Holding it,
        the race is settled (``find``) and its winner recorded."""
        looking, seen = threading.Event(), []
        real = self.glance._post

        def post(request, context):
            seen.append(looking.wait(5))
            return real(request, context)
        self.glance._post = post
        request = self.request()
        self.cloud.resources.append(('r1', request.marker))
        kind = Widgets(self.cloud, request)
        kind.settles = True
        peeks = []

        def peek(request):
            peeks.append(request)
            if len(peeks) == 2:
                looking.set()
            return idempotent.Found('found:r1', ['r1'], final=False)
        kind.peek = peek
        self.assertEqual('found:r1', self.run_once(
            'a', request, kind, self.reservation(request)))
        self.assertEqual(([True], 2, 0, ['r1']),
                         (seen, len(peeks), self.cloud.creates,
                          self.outcome()))

    @staticmethod
    def young(kind):
        """Make ``kind``'s lookup find its resource as a race that may
        still change (a server younger than the settle time); the lookups
        made, listed."""
        peeks = []

        def peek(request):
            peeks.append(request)
            found = kind.find(request)
            if found:
                found.final = False
            return found
        kind.peek = peek
        return peeks

    def reservation_reads(self):
        return [r for r in self.service.mock.request_history
                if r.method == 'GET' and r.path.endswith(self.rid())]

    def test_a_young_resource_under_anothers_reservation_costs_one_get(self):
        """Host b just after host a's create: what it finds may still
        change, and the reservation it reads (one GET, no POST, no second
        lookup) is another attempt's: the resource is that attempt's."""
        self.run_on('a')
        request = self.request()
        kind = Widgets(self.cloud, request)
        peeks = self.young(kind)
        self.assertEqual('found:w1', self.run_once(
            'b', request, kind, self.reservation(request)))
        self.assertEqual((1, 1, 1, 1), (
            self.cloud.creates, self.glance.posts, len(peeks),
            len(self.reservation_reads())))
        self.assertEqual(('done', ['w1'], None),
                         (self.entry('b').state, self.entry('b').resource_ids,
                          self.entry('b').reservation))

    def test_a_young_resource_under_a_reservation_of_other_parameters(self):
        """The reservation read there refuses other parameters, before
        anything of host b is journaled or sent (the resource kept no
        fingerprint of its own here)."""
        self.run_on('a')
        self.cloud.fingerprints.clear()
        request = self.request(dict(PARAMS, size=2))
        kind = Widgets(self.cloud, request)
        self.young(kind)
        exc = self.assertRaises(errors.Refused, self.run_once, 'b', request,
                                kind, self.reservation(request))
        self.assertIn('with other parameters; different: size', str(exc))
        self.assertEqual((1, 1, None), (self.cloud.creates,
                                        self.glance.posts, self.entry('b')))

    def test_sends_no_create_and_no_reservation(self):
        self.run_on('a')
        self.assertEqual('found:w1', self.run_on('b'))
        self.assertEqual((1, 1), (self.cloud.creates, self.glance.posts))
        self.assertEqual(('done', ['w1'], None),
                         (self.entry('b').state, self.entry('b').resource_ids,
                          self.entry('b').reservation))
        self.assertIn('widget w1 was already created', self.said[-1])

    def test_other_parameters_are_refused_from_the_resource(self):
        """Found by the lookup, before anything of host b is journaled
        or sent."""
        self.run_on('a')
        exc = self.assertRaises(errors.Refused, self.run_on, 'b',
                                dict(PARAMS, size=2))
        self.assertIn('with other parameters; different: size', str(exc))
        self.assertIn('on the cloud', str(exc))
        self.assertEqual((1, 1, None), (self.cloud.creates,
                                        self.glance.posts, self.entry('b')))

    def test_other_parameters_are_refused_from_the_reservation(self):
        """The holder's resource not yet seen by the lookup: the
        reservation's own fingerprint refuses."""
        self.run_on('a')
        self.cloud.resources = [('w1', 'unmarked')]
        exc = self.assertRaises(errors.Refused, self.run_on, 'b',
                                dict(PARAMS, size=2))
        self.assertIn('with other parameters; different: size', str(exc))
        self.assertIn('on the cloud', str(exc))
        self.assertEqual(1, self.cloud.creates)
        self.assertEqual('failed', self.entry('b').state)

    def test_waits_for_the_holders_outcome(self):
        """The holder reserved and is still creating: the other host
        waits (saying so once) and prints what it made."""
        holder_request = self.request()
        self.glance.put({'id': self.rid(), reservations.NONCE_KEY: 'theirs',
                         reservations.FINGERPRINT_KEY:
                         holder_request.fingerprint.encode()},
                        self.clock.now)
        sleep = self.clock.sleep

        def holder_finishes(seconds):
            sleep(seconds)
            if self.clock.now > 1_800_000_002 and not self.cloud.resources:
                self.cloud.resources.append(('w9', 'elsewhere'))
                self.glance.images[self.rid()][
                    reservations.RESOURCES_KEY] = '["w9"]'
        self.clock.sleep = holder_finishes
        self.assertEqual('fetched:w9', self.run_on('b'))
        self.assertEqual(0, self.cloud.creates)
        self.assertEqual(1, sum('is creating the widget; waiting' in line
                                for line in self.said), self.said)

    def test_a_deleted_reservation_keeps_the_token_taken(self):
        self.run_on('a')
        self.glance.images.pop(self.rid())
        self.glance.deleted.add(self.rid())
        self.cloud.resources = []
        exc = self.assertRaises(errors.Refused, self.run_on, 'b')
        self.assertIn('which was deleted (or belongs to another project)',
                      str(exc))
        self.assertIn('use a new token', str(exc))
        self.assertEqual(1, self.cloud.creates)

    def test_a_deleted_reservation_whose_resource_is_there_shows_it(self):
        self.run_on('a')
        self.glance.images.pop(self.rid())
        self.glance.deleted.add(self.rid())
        self.assertEqual('found:w1', self.run_on('b'))
        self.assertEqual(1, self.cloud.creates)


class TestFallback(FlowTestCase):

    def test_refused_by_policy_or_quota_says_one_line_and_creates(self):
        for status in (403, 413):
            self.glance.refuse = status
            self.said[:] = []
            self.cloud = Cloud()
            self.journals = {}
            self.assertEqual('created:w1', self.run_on('a'))
            self.assertTrue(self.kind.racing_at_send)
            self.assertEqual(1, len(self.said), self.said)
            self.assertIn('Reservations are unavailable on this cloud (the '
                          'image service answered HTTP %d: refused)'
                          % status, self.said[0])
            self.assertIn('may make two widgets until reservations are '
                          'allowed', self.said[0])
            self.assertIsNone(self.entry('a').reservation)

    def test_no_image_service(self):
        self.assertEqual('created:w1', self.run_on('a', images=None))
        self.assertEqual(['Reservations are unavailable on this cloud (the '
                          'cloud has no image service): runs from several '
                          'hosts at the same moment may make two widgets '
                          'until reservations are allowed.'], self.said)

    def test_a_kind_that_settles_is_told_so(self):
        kind = Widgets(self.cloud, self.request())
        kind.settles = True
        self.assertIn('settled after their creates instead',
                      idempotent.fallback_line(kind, 'HTTP 403'))

    def test_no_answer_to_the_reservation_sends_no_create(self):
        self.glance.refuse = 503
        exc = self.assertRaises(errors.Unknown, self.run_on, 'a')
        self.assertIn('Nothing was created: run the same command again',
                      str(exc))
        self.assertEqual((0, 'pending'), (self.cloud.creates,
                                          self.entry('a').state))


class TestRecordedMeanwhile(FlowTestCase):

    def test_the_outcome_is_written_while_the_command_goes_on(self):
        """The create returns before the outcome is on the reservation
        (Glance is slow here); it is there once the write ends."""
        writing = threading.Event()
        patch = self.glance._patch

        def slow_patch(request, context):
            writing.wait(5)
            return patch(request, context)
        self.service.mock.patch(re.compile(GLANCE + '/images/[0-9a-f-]+$'),
                                json=slow_patch)
        request = self.request()
        reservation = self.reservation(request)
        self.assertEqual('created:w1', idempotent.run_once(
            self.journal('a'), request, Widgets(self.cloud, request),
            self.said.append, reservation=reservation))
        self.assertIsNone(self.outcome())
        writing.set()
        reservation.recorded()
        self.assertEqual(['w1'], self.outcome())

    def test_given_another_process_it_gets_the_calls_to_send(self):
        """Given ``detach``, the outcome is calls for another process to
        send (sent here, where the mock sees them): the same PATCH, with
        the session's token."""
        left = []

        def detach(calls):
            left.append(calls)
            return True
        request = self.request()
        reservation = reservations.Reservation(
            self.images, request, 'RegionOne', LEASE, self.said.append,
            detach=detach)
        idempotent.run_once(self.journal('a'), request,
                            Widgets(self.cloud, request), self.said.append,
                            reservation=reservation)
        self.assertIsNone(self.outcome())
        [[call]] = left
        self.assertEqual(('PATCH', GLANCE + '/images/' + self.rid()),
                         (call['method'], call['url']))
        self.assertEqual(self.service.adapter.get_token(),
                         call['headers']['X-Auth-Token'])
        later.send([call])
        self.assertEqual(['w1'], self.outcome())

    def written_by_a_thread(self, detach):
        request = self.request()
        reservation = reservations.Reservation(
            self.images, request, 'RegionOne', LEASE, self.said.append,
            detach=detach)
        self.run_once('a', request, Widgets(self.cloud, request),
                      reservation)
        self.assertEqual(['w1'], self.outcome())

    def test_where_no_process_starts_a_thread_writes_it(self):
        self.written_by_a_thread(lambda calls: None)

    def test_a_hand_over_that_fails_is_not_the_commands_failure(self):
        def broken(calls):
            raise TypeError('sys.executable is None')
        self.written_by_a_thread(broken)


class TestWhoWritesTheOutcome(testtools.TestCase):
    """``context.outcome_writer``: a process of its own only where the
    process ends with the command."""

    def app(self, interactive=False, debug=False):
        app = shared.fake_app()
        app.interactive_mode = interactive
        app.options.debug = debug
        return app

    def args(self, wait=False):
        return argparse.Namespace(wait=wait)

    def test_openstack_run_once_leaves_it_to_another_process(self):
        self.assertIs(later.spawn, context.outcome_writer(
            self.app(), self.args()))

    def test_the_shell_debug_wait_and_the_api_send_it_themselves(self):
        self.assertIsNone(context.outcome_writer(self.app(interactive=True),
                                                 self.args()))
        self.assertIsNone(context.outcome_writer(self.app(debug=True),
                                                 self.args()))
        self.assertIsNone(context.outcome_writer(self.app(),
                                                 self.args(wait=True)))
        self.assertIsNone(context.outcome_writer(api._App(
            mock.Mock(), None), self.args()))


class TestTakeover(FlowTestCase):

    def dead_holder(self, age):
        request = self.request()
        self.glance.put({'id': self.rid(), reservations.NONCE_KEY: 'dead',
                         reservations.FINGERPRINT_KEY:
                         request.fingerprint.encode()},
                        self.clock.now - age)

    def test_a_lease_run_out_with_nothing_made_is_taken_over(self):
        self.dead_holder(LEASE + 1)
        self.assertEqual('created:w1', self.run_on('b'))
        self.assertEqual((['w1'], None), (self.outcome(1), self.outcome(0)))
        self.assertEqual(self.rid(1), self.entry('b').reservation)
        self.assertIn("The run that reserved the client token 'T' made "
                      'nothing in 60s: taking over.', self.said)

    def test_without_glances_clock_the_local_one_tells_the_age(self):
        self.glance.dated = False
        request = self.request()
        self.glance.put({'id': self.rid(), reservations.NONCE_KEY: 'dead',
                         reservations.FINGERPRINT_KEY:
                         request.fingerprint.encode()},
                        time.time() - LEASE - 1)
        self.assertEqual('created:w1', self.run_on('b'))
        self.assertEqual(['w1'], self.outcome(1))

    def test_before_the_lease_runs_out_it_waits_then_takes_over(self):
        self.dead_holder(LEASE - 10)
        start = self.clock.now
        self.assertEqual('created:w1', self.run_on('b'))
        self.assertGreaterEqual(self.clock.now - start, 10)
        self.assertEqual(['w1'], self.outcome(1))

    def test_a_resource_found_while_waiting_is_the_requests(self):
        """The holder died between its create and recording the outcome:
        its resource is found, nothing is taken over."""
        self.dead_holder(5)
        self.cloud.resources.append(('w7', self.request().marker))
        self.assertEqual('found:w7', self.run_on('b'))
        self.assertEqual((0, None), (self.cloud.creates,
                                     self.glance.images.get(self.rid(1))))

    def test_a_holder_that_wakes_after_a_takeover_leaves_one(self):
        """Host a reserves, then is paused past the lease before its
        create; host b takes over and creates. When a resumes, its create
        still leaves: it finds b's outcome, deletes its own widget and
        returns b's."""
        def paused_then_taken_over():
            self.clock.sleep(LEASE + 1)
            self.assertEqual('created:w1', self.run_on('b'))
        self.assertEqual('fetched:w1', self.run_on(
            'a', before_create=paused_then_taken_over))
        self.assertEqual(2, self.cloud.creates)
        self.assertEqual(['w1'], [rid for rid, _ in self.cloud.resources])
        self.assertEqual((['w1'], ['w1']), (self.outcome(0),
                                            self.outcome(1)))
        self.assertEqual(['w1'], self.entry('a').resource_ids)
        self.assertIn("Deleting widget w2: a run that took over the client "
                      "token 'T' created widget w1.", self.said)

    def test_a_holder_within_half_its_lease_checks_nothing_more(self):
        self.run_on('a')
        self.assertEqual(1, self.glance.posts)
        self.assertNotIn(self.rid(1), self.glance.images)


class TestSettings(testtools.TestCase):

    def test_on_unless_an_option_the_environment_or_clouds_yaml_says(self):
        self.assertTrue(reservations.enabled(False, {}, {}))
        self.assertFalse(reservations.enabled(True, {}, {}))
        for value in ('off', 'OFF', '0', 'false', 'no'):
            self.assertFalse(reservations.enabled(
                False, {}, {'IDEMCLIENT_RESERVATIONS': value}), value)
        self.assertFalse(reservations.enabled(
            False, {'idemclient_reservations': False}, {}))
        self.assertTrue(reservations.enabled(
            False, {'idemclient_reservations': True}, {}))

    def test_the_lease(self):
        self.assertEqual(180.0, reservations.lease_seconds({}, {}))
        self.assertEqual(5.0, reservations.lease_seconds(
            {'idemclient_reservation_lease': 5}, {}))
        self.assertEqual(7.0, reservations.lease_seconds(
            {'idemclient_reservation_lease': 5},
            {'IDEMCLIENT_RESERVATION_LEASE': '7'}))
        for bad in ('0', 'x', '-3', '100000'):
            self.assertRaises(ValueError, reservations.lease_seconds, {},
                              {'IDEMCLIENT_RESERVATION_LEASE': bad})


class TestTaskTagSlots(FlowTestCase):
    """A task tag's slots: keyed by the tag alone, one per task, so that
    ``task show --tag`` reads a tag's tasks with one listing."""

    def run_tagged(self, host, token=None, before_create=None):
        request = idempotent.Request.for_create('widget.create', SCOPE,
                                                PARAMS, token, 'G')
        kind = Widgets(self.cloud, request, before_create)
        return self.run_once(host, request, kind, self.reservation(request))

    def slots(self):
        return [(reservations.resource_ids_of(body),
                 body[reservations.TASK_KEY],
                 body[reservations.OPERATION_KEY])
                for body in reservations.tagged(self.images, SCOPE.key,
                                                'RegionOne', 'G')]

    def entries(self, host):
        with jmod.Journal.open(self.journal(host)) as journal:
            return journal.by_task_tag(SCOPE.key, 'G')

    def test_each_task_takes_the_next_slot_with_its_outcome(self):
        self.assertEqual('created:w1', self.run_tagged('a'))
        self.assertEqual('created:w2', self.run_tagged('a', token='T2'))
        first, second = sorted(self.entries('a'),
                               key=lambda e: e.resource_ids)
        self.assertEqual([(['w1'], first.uuid, 'widget.create'),
                          (['w2'], second.uuid, 'widget.create')],
                         self.slots())
        self.assertEqual(2, len(first.reservation.split()))

    def test_reading_a_tag_is_one_listing_whatever_its_tasks(self):
        for token in ('T1', 'T2', 'T3'):
            self.run_tagged('a', token=token)
        before = len(self.glance_requests())
        self.assertEqual([['w1'], ['w2'], ['w3']],
                         [ids for ids, _, _ in self.slots()])
        [listing] = self.glance_requests()[before:]
        self.assertEqual(('GET', ['true']), (listing.method,
                                             listing.qs['os_hidden']))

    def test_slots_made_before_they_were_listed_cost_a_get_each(self):
        self.run_tagged('a')
        for body in self.glance.images.values():
            body.pop(reservations.TAG_KEY, None)
        before = len(self.glance_requests())
        self.assertEqual([['w1']], [ids for ids, _, _ in self.slots()])
        self.assertEqual(3, len(self.glance_requests()[before:]))

    def test_a_retry_and_another_host_take_no_second_slot(self):
        def died():
            raise KeyboardInterrupt
        self.assertRaises(KeyboardInterrupt, self.run_tagged, 'a',
                          before_create=died)
        self.assertEqual('created:w1', self.run_tagged('a'))
        self.assertEqual('found:w1', self.run_tagged('b'))
        self.assertEqual([['w1']], [ids for ids, _, _ in self.slots()])

    def test_a_create_the_cloud_refuses_twice_takes_only_a_slot(self):
        """Keypairs, images and volume swaps: no reservation of the
        request, but its task tag's slot, with the outcome."""
        request = idempotent.Request.for_create('widget.create', SCOPE,
                                                PARAMS, 'T', 'G')
        reservation = reservations.Reservation(
            self.images, request, 'RegionOne', LEASE, self.said.append,
            slot_only=True)
        self.assertEqual('created:w1', self.run_once(
            'a', request, Widgets(self.cloud, request), reservation))
        self.assertEqual([(['w1'], self.entry('a').uuid, 'widget.create')],
                         self.slots())
        self.assertIsNone(self.glance.images.get(self.rid()))
        self.assertEqual(1, self.glance.posts)
        self.assertEqual(reservation.slot_id, self.entry('a').reservation)

    def glance_requests(self):
        return [r for r in self.service.mock.request_history
                if r.url.startswith(GLANCE)]


class TestWhereReservationsGo(testtools.TestCase):
    """Which creates reserve, and where the image service is."""

    def test_every_create_but_keypairs_and_images_reserves(self):
        reserving = {kind.command for kind in registry.KINDS
                     if registry.reserves(kind)}
        self.assertEqual({
            'server create', 'volume create', 'volume snapshot create',
            'volume backup create', 'network create', 'port create',
            'router create', 'security group create', 'floating ip create',
            'server image create', 'loadbalancer create'}, reserving)

    def catalog(self, url=None, override=None):
        app = shared.fake_app()
        app.client_manager.get_configuration.return_value = (
            {'image_endpoint_override': override} if override else {})
        url_for = app.client_manager.auth_ref.service_catalog.url_for
        if url is None:
            url_for.side_effect = ks_exceptions.EndpointNotFound('image')
        else:
            url_for.return_value = url
        return context.image_endpoint(app)

    def test_the_catalogs_endpoint_with_v2_no_discovery(self):
        self.assertEqual('http://glance:9292/v2',
                         self.catalog('http://glance:9292/'))
        self.assertEqual('http://glance:9292/image/v2',
                         self.catalog('http://glance:9292/image/v2/'))

    def test_the_override_wins(self):
        self.assertEqual('http://proxy:1/v2', self.catalog(
            'http://glance:9292', override='http://proxy:1'))

    def test_no_image_service_is_none(self):
        self.assertIsNone(self.catalog(None))
