"""What a released idemclient stored stays readable: its journal and the
markers it put on the cloud (``data/``, written by the release's own code
with ``data/make_release_fixture.py``) are read with today's code, and
every task is found: from this host's journal, by its task tag and by its
id from another host, and by ``task resume`` for those left pending."""

import json
import os
import shutil
import time

import fixtures
import testtools

from idemclient import contract
from idemclient.core import converge
from idemclient.core import journal as jmod
from idemclient.core.token import Scope
from idemclient import tasks

DATA = os.path.join(os.path.dirname(__file__), 'data')
# The kinds added after the release that wrote the fixture.
ADDED_SINCE = {'load_balancer.create'}


def _released():
    with open(os.path.join(DATA, 'release-cloud.json')) as f:
        return json.load(f)


class FakeService:
    """The client calls the task families make, answered from the bodies
    the release stored (``idemclient.clients``' method names)."""

    def __init__(self, bodies):
        self.bodies = bodies  # collection -> [body]

    def _all(self):
        return [b for items in self.bodies.values() for b in items]

    # block storage and network
    def supports(self, microversion):
        return True

    def listed(self, collection, params=None, keep=None):
        return [b for b in self.bodies.get(collection, [])
                if keep is None or keep(b)]

    def with_metadata(self, collection, key, value):
        return self.listed(collection, keep=lambda b: (
            b.get('metadata') or {}).get(key) == value)

    def get(self, collection, item_id=None):
        if item_id is None:  # the image client's get(image_id)
            collection, item_id = 'images', collection
        return next((b for b in self.bodies.get(collection, [])
                     if b['id'] == item_id), None)

    def messages_about(self, resource_id):
        return []

    # image
    def with_property(self, key, value):
        return [b for b in self.bodies.get('images', [])
                if b.get(key) == value]

    # compute
    def port_ids(self, server_id):
        return []  # the release's servers booted with --nic none

    def get_server(self, server_id):
        return self.get('servers', server_id)

    def servers_by_any_tag(self, tags):
        return [s for s in self.bodies.get('servers', [])
                if set(tags) & set(s.get('tags') or [])]

    def servers_by_tag(self, tag):
        return self.servers_by_any_tag([tag])

    def any_tag_listing(self, tags):
        return converge.Listing(self.servers_by_any_tag(tags), time.time())

    # Nova's request ids of the fixture's actions (the swap's is the one
    # the release journaled as the swap's answer).
    ACTIONS = {'req-create': 'create', 'req-swap': 'swap_volume'}

    def instance_actions(self, server_id):
        return [{'action': name, 'request_id': request_id}
                for request_id, name in self.ACTIONS.items()]

    def instance_action(self, server_id, request_id):
        return {'action': self.ACTIONS[request_id],
                'request_id': request_id,
                'events': [{'event': 'e', 'result': 'Success',
                            'finish_time': '2026-11-20T10:00:05Z'}]}

    def get_keypair(self, name, user_id=None):
        return self.get('os-keypairs', name)

    def keypairs(self):
        return self.bodies.get('os-keypairs', [])


class TestReleaseFixture(testtools.TestCase):

    def setUp(self):
        super().setUp()
        released = _released()
        self.scope = Scope(*released['scope'])
        self.cloud = released['entries']
        from idemclient.core import registry
        bodies = {}
        for stored in self.cloud.values():
            kind = registry.BY_OPERATION[stored['operation']]
            bodies.setdefault(kind.collection, []).append(stored['body'])
        service = FakeService(bodies)
        self.clients = contract.Clients.made(
            compute=service, volumes=service, network=service,
            images=service)
        tmp = self.useFixture(fixtures.TempDir()).path
        # A copy: reading a journal may write beside it (WAL).
        self.path = os.path.join(tmp, 'journal.sqlite')
        shutil.copy(os.path.join(DATA, 'release-journal.sqlite'), self.path)
        self.journal = jmod.Journal.open(self.path)
        self.addCleanup(self.journal.close)
        self.other_host = jmod.Journal.open(os.path.join(tmp, 'other'))
        self.addCleanup(self.other_host.close)

    def test_every_kind_and_a_swap_are_in_the_fixture(self):
        """Every kind the release had; those added since cannot be."""
        from idemclient.core import registry
        self.assertEqual({kind.operation for kind in registry.KINDS} -
                         ADDED_SINCE,
                         {e.operation for e in self.journal.entries()})

    def test_this_hosts_journal_finds_every_task(self):
        for entry in self.journal.entries():
            stored = self.cloud[entry.uuid]
            [view] = tasks.show_by_id(self.journal, self.clients, self.scope,
                                      entry.uuid, time.time())
            self.assertEqual(
                (entry.operation, 'succeeded', stored['body']['id']),
                (view['task'], view['state'], view['resource']),
                entry.operation)

    def test_another_host_finds_every_task_by_tag_and_by_id(self):
        for entry in self.journal.entries():
            stored = self.cloud[entry.uuid]
            for views in (
                    tasks.show_by_tag(self.other_host, self.clients,
                                      self.scope, stored['task_tag'],
                                      time.time()),
                    tasks.show_by_id(self.other_host, self.clients,
                                     self.scope, entry.uuid, time.time())):
                self.assertEqual(
                    [(entry.uuid, entry.operation, stored['body']['id'])],
                    [(v['uuid'], v['task'], v['resource']) for v in views],
                    entry.operation)

    def test_resume_records_what_was_left_pending(self):
        pending = self.journal.entries('pending')
        self.assertNotEqual([], pending)
        views = tasks.resume(self.journal, self.clients, pending,
                             time.time(), settle_seconds=0)
        self.assertEqual(['succeeded'] * len(pending),
                         [v['state'] for v in views])
        for entry in pending:
            done = self.journal.get(entry.uuid)
            self.assertEqual(('done', [self.cloud[entry.uuid]['body']['id']]),
                             (done.state, done.resource_ids),
                             entry.operation)
