"""The journal at the edges a user hits: a really full disk (a tiny tmpfs
filled up, in a private mount namespace), a read-only one, and no journal
at all, against the real cloud."""

import os

from idemclient.tests.functional import base
from idemclient.tests.functional import test_tasks


class TestFullDisk(test_tasks.TaskTestCase):

    def test_create_says_the_disk_is_full_and_where_and_sends_nothing(self):
        name = 'full-' + self.uid
        self.create_server('seed-' + self.uid, '--task-tag', self.uid)
        result, inside = self.osc_full_disk(
            self.journal, *(base.CREATE + ('--client-token', 't', name)))
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertEqual(1, len(result.stderr.strip().splitlines()),
                         result.stderr)
        self.assertIn('the disk is full', result.stderr)
        self.assertIn('free in %s' % os.path.dirname(inside), result.stderr)
        self.assertIn('Nothing was sent.', result.stderr)
        self.assertEqual([], self.servers_named(name))

    def test_reading_commands_work_on_a_full_disk(self):
        name, tag = 'fullr-' + self.uid, 'r-' + self.uid
        server = self.create_server(name, '--task-tag', tag)
        listed, _ = self.osc_full_disk(self.journal, 'task', 'list',
                                       '-f', 'value', '-c', 'Tag')
        self.assertOK(listed)
        self.assertEqual(tag, listed.stdout.strip())
        shown, _ = self.osc_full_disk(self.journal, 'task', 'show', '--tag',
                                      tag, '-f', 'value', '-c', 'resource')
        self.assertOK(shown)
        self.assertEqual(server['id'], shown.stdout.strip())


class TestReadOnlyDisk(test_tasks.TaskTestCase):

    def test_reading_commands_work_on_a_read_only_disk(self):
        name, tag = 'ror-' + self.uid, 'ro-' + self.uid
        server = self.create_server(name, '--task-tag', tag)
        listed = self.assertOK(self.osc_read_only(
            self.tmp, 'task', 'list', '-f', 'value', '-c', 'Resource'))
        self.assertEqual(server['id'], listed.stdout.strip())
        shown = self.assertOK(self.osc_read_only(
            self.tmp, 'task', 'show', '--tag', tag, '-f', 'value', '-c',
            'state'))
        self.assertIn(shown.stdout.strip(), ('accepted', 'succeeded'))


class TestNoJournal(test_tasks.TaskTestCase):

    def test_reading_commands_leave_no_file_behind(self):
        state = os.path.join(self.tmp, 'state')
        journal = os.path.join(state, 'idemclient', 'journal.sqlite')
        for args in (('task', 'list'), ('task', 'resume', '--all'),
                     ('task', 'prune', '--older-than', '1d')):
            self.assertOK(self.osc(*args, journal=journal))
        shown = self.osc('task', 'show', '--tag', 'none-' + self.uid,
                         journal=journal)
        self.assertEqual(1, shown.returncode)
        self.assertIn('No task with tag', shown.stderr)
        self.assertFalse(os.path.exists(state), os.listdir(self.tmp))
