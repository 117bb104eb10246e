"""``openstack task show|list|resume|prune``: what became of requests."""

import os
import re
import time

from osc_lib.cli import format_columns
from osc_lib.command import command
from osc_lib import exceptions

from idemclient import boundary
from idemclient.clients import block_storage as volume_api
from idemclient.clients import compute as compute_api
from idemclient.clients import errors
from idemclient.clients import image as image_api
from idemclient.clients import network as network_api
from idemclient import context
from idemclient import contract
from idemclient.core import journal as journal_mod
from idemclient.kinds import cinder_tasks
from idemclient.kinds import server_tasks
from idemclient import output
from idemclient import tasks

STATE_HELP = ' '.join('%s: %s' % kv for kv in tasks.STATES.items())


class TaskReader:
    """What the task commands (and ``idemclient.api.task``) read through:
    the cloud's clients, made on first use, the scope and the journal.
    Needs ``app``: OSC's, or the API's stand-in."""

    def compute(self):
        return compute_api.ComputeClient(self.app.client_manager.compute)

    def volumes(self):
        """The block storage client, made on first use: a task may not
        need it, and a cloud may have no block storage."""
        return self._client('volume', volume_api.BlockStorageClient)

    def network(self):
        """The network client, made on first use (as ``volumes``)."""
        return self._client('network', network_api.NetworkClient)

    def images(self):
        """The image client, made on first use (as ``volumes``)."""
        return self._client('image', image_api.ImageClient)

    def load_balancer(self):
        """Octavia's client, made on first use; None without Octavia."""
        made = self.__dict__.setdefault('_made_clients', {})
        if 'load-balancer' not in made:
            made['load-balancer'] = context.load_balancer_client(self.app)
        return made['load-balancer']

    def reservation_images(self):
        """The image client reservations are read with: the catalog's
        ``/v2``, no version discovery."""
        made = self.__dict__.setdefault('_made_clients', {})
        if 'reservations' not in made:
            made['reservations'] = context.image_client(self.app)
            if made['reservations'] is None:
                raise errors.ApiError('The cloud has no image service')
        return made['reservations']

    def _client(self, service, client_class):
        made = self.__dict__.setdefault('_made_clients', {})
        if service not in made:
            try:
                adapter = getattr(self.app.client_manager, service)
            except Exception as exc:
                raise errors.sdk_error(exc)
            made[service] = client_class(adapter)
        return made[service]

    def clients(self):
        """The clients a task may need, each made on first use."""
        return contract.Clients(compute=self.compute, volumes=self.volumes,
                                network=self.network, images=self.images,
                                load_balancer=self.load_balancer)

    def tag_slots(self, scope, tag):
        """What the tag's slots in the image service say ([] if none)."""
        from idemclient import reservations
        try:
            return reservations.tagged(self.reservation_images(), scope.key,
                                       self.app.client_manager.region_name,
                                       tag)
        except errors.ApiError:  # no image service, or it failed
            return []

    def reserving(self):
        """Whether creates here take reservations (``reservations.enabled``:
        the environment and clouds.yaml; a task command has no
        ``--no-reservation``)."""
        from idemclient import reservations
        return reservations.enabled(
            None, self.app.client_manager.get_configuration())

    def scope(self):
        return context.scope_of(self.app, self.app.client_manager.compute)

    def found(self, journal, task_id, tag, search_resources):
        """The views of the tasks with ``task_id`` or ``tag``: this
        host's journal, else the cloud (a tag's slots where creates
        reserve, else, or with ``search_resources``, every kind)."""
        scope, clients, now = self.scope(), self.clients(), time.time()
        if tag is None:
            return tasks.show_by_id(journal, clients, scope, task_id, now)
        reserving = self.reserving()
        return tasks.show_by_tag(
            journal, clients, scope, tag, now,
            (lambda: self.tag_slots(scope, tag)) if reserving else None,
            search_resources or not reserving)

    def open_journal(self, write=False):
        """The journal; a command that only reads opens it read-only (it
        works on a full or read-only disk), and none that exists is empty:
        no file is made for a command that has nothing to record."""
        path = context.journal_path(self.app)
        try:
            if write and os.path.exists(path):
                return journal_mod.Journal.open(path)
            return journal_mod.Journal.open_for_reading(path)
        except journal_mod.JournalError as exc:
            raise exceptions.CommandError('%s.' % exc)

    def say(self, message):
        output.say(self.app, message)


def _formatted(fields):
    fields = dict(fields)
    fields['events'] = format_columns.ListDictColumn(fields['events'])
    if 'ports' in fields:
        fields['ports'] = format_columns.ListColumn(fields['ports'])
    shown = tasks.columns(fields)
    return shown, tuple(fields[c] for c in shown)


class ShowTask(TaskReader, command.ShowOne):
    """Show what became of a request, even if its response was lost."""

    def get_description(self):
        # The states are listed from tasks.STATES, the one place that
        # defines them; a docstring must be a literal to be one.
        return '%s\n\nStates: %s' % (super().get_description(), STATE_HELP)

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('task', metavar='<task-id>', nargs='?',
                            help='Task ID (see "openstack task list")')
        parser.add_argument('--tag', metavar='<tag>',
                            help='The --task-tag the request was sent with; '
                            'found on the cloud too when this host has no '
                            'record of it (in its reservations: a request '
                            'each)')
        parser.add_argument('--search-resources', action='store_true',
                            help='With --tag: when no reservation records '
                            'the tag, look for it on every kind of '
                            'resource (a listing each). Finds tasks sent '
                            'without reservations: with them turned off, '
                            'on a cloud that refused them, or by a release '
                            'before them. The default when reservations '
                            'are turned off')
        return parser

    def take_action(self, parsed_args):
        if (parsed_args.task is None) == (parsed_args.tag is None):
            raise exceptions.CommandError('Give a task ID or --tag, not both '
                                          'and not neither.')
        try:
            cinder_tasks.stuck_seconds()
        except ValueError as exc:
            raise exceptions.CommandError(str(exc))
        with boundary.translated(), self.open_journal() as journal:
            found = self.found(journal, parsed_args.task, parsed_args.tag,
                               parsed_args.search_resources)
        what = parsed_args.task or 'tag %r' % parsed_args.tag
        if not found and parsed_args.tag is not None and \
                self.reserving() and not parsed_args.search_resources:
            raise exceptions.CommandError(
                'No task with %s is recorded on this host or in the '
                'cloud\'s reservations. A task sent without a reservation '
                'is found with --search-resources.' % what)
        if not found:
            raise exceptions.CommandError(
                'No task with %s exists in this project.' % what)
        if len(found) > 1:
            raise exceptions.CommandError(
                'More than one task has %s: %s; show one by its ID.'
                % (what, ', '.join(f['uuid'] or f['resource']
                                   for f in found)))
        return _formatted(found[0])


LIST_COLUMNS = ('uuid', 'operation', 'state', 'task_tag', 'client_token',
                'resources', 'updated')
LONG_COLUMNS = LIST_COLUMNS + ('request_id', 'response_request_id',
                               'attempts', 'created', 'error')
HEADINGS = {'uuid': 'ID', 'operation': 'Task', 'state': 'State',
            'task_tag': 'Tag', 'client_token': 'Client Token',
            'resources': 'Resource', 'updated': 'Last Updated',
            'request_id': 'Client Request ID',
            'response_request_id': 'Request ID', 'attempts': 'Attempts',
            'created': 'Start Time', 'error': 'Error'}


class ListTask(TaskReader, command.Lister):
    """List this host's recorded requests in this project, newest first.

    The state is the journal's (pending, done, failed); "openstack task
    show" asks the cloud.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--state', choices=journal_mod.STATES,
                            help='Only entries in this journal state')
        parser.add_argument('--long', action='store_true', default=False,
                            help='List additional fields in output')
        return parser

    def take_action(self, parsed_args):
        scope = self.scope()
        with self.open_journal() as journal:
            entries = journal.entries(parsed_args.state, scope.key)
        columns = LONG_COLUMNS if parsed_args.long else LIST_COLUMNS
        rows = []
        for entry in entries:
            values = dict(vars(entry), resources=', '.join(
                entry.resource_ids) or entry.target,
                updated=tasks._iso(entry.updated_at),
                created=tasks._iso(entry.created_at))
            rows.append(tuple(values[c] for c in columns))
        return tuple(HEADINGS[c] for c in columns), rows


class ResumeTask(TaskReader, command.Lister):
    """Find out what became of pending requests and record it.

    Run it after a crash: creates are looked up on the cloud in batches.
    A request the cloud has no trace of stays pending (state not-found):
    run the same command again to send it.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument('--tag', metavar='<tag>',
                           help='Resume the pending requests with this tag')
        which.add_argument('--all', action='store_true',
                           help='Resume every pending request of this '
                           'project')
        return parser

    def take_action(self, parsed_args):
        scope = self.scope()
        with self.open_journal(write=True) as journal:
            if parsed_args.all:
                pending = journal.entries('pending', scope.key)
            else:
                pending = [e for e in journal.by_task_tag(
                    scope.key, parsed_args.tag) if e.state == 'pending']
            if len(pending) > server_tasks.TAGS_PER_LOOKUP:
                self.say('Checking %d pending requests...' % len(pending))

            def progress(done, total):
                if done:
                    self.say('  Looked up %d of %d creates.' % (done, total))
            with boundary.translated():
                views = tasks.resume(
                    journal, self.clients(), pending, time.time(), progress,
                    context.settle_seconds(self.app), self.say)
        columns = ('uuid', 'task', 'tag', 'resource', 'state')
        return (('ID', 'Task', 'Tag', 'Resource', 'State'),
                [tuple(v[c] for c in columns) for v in views])


_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 7 * 86400}


def parse_duration(text):
    """Seconds in ``90s``, ``30m``, ``12h``, ``7d``, ``2w``."""
    match = re.fullmatch(r'\s*(\d+)\s*([smhdw])\s*', text or '')
    if not match:
        raise exceptions.CommandError(
            'Invalid duration %r: a number and a unit (s, m, h, d or w), '
            'e.g. 7d.' % text)
    return int(match.group(1)) * _UNITS[match.group(2)]


class PruneTask(TaskReader, command.Command):
    """Remove finished (done or failed) entries from the local journal,
    and the reservations they hold.

    Pending entries are never removed: they are requests whose outcome is
    not known yet. A reservation (a hidden image) is deleted with the
    credentials of its project; an entry whose reservation cannot be
    deleted now (another project's, no credentials given, the image
    service failing) is kept for a later prune. The token stays bound
    after a prune: Glance keeps a deleted image's id until its operator
    purges them.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--older-than', metavar='<duration>',
                            required=True,
                            help='Remove entries last changed longer ago '
                            'than this: e.g. 30m, 12h, 7d, 2w')
        parser.add_argument('--keep-reservations', action='store_true',
                            help='Remove the entries only, offline, and '
                            'leave their reservations (hidden images) in '
                            'the image service')
        return parser

    def take_action(self, parsed_args):
        age = parse_duration(parsed_args.older_than)
        with self.open_journal(write=True) as journal:
            try:
                finished = journal.finished(time.time() - age)
                reserved = [] if parsed_args.keep_reservations else [
                    e for e in finished if e.reservation]
                kept, why = self._delete_reservations(reserved)
                removed = journal.delete_entries(
                    [e.uuid for e in finished if e.uuid not in kept])
            except journal_mod.JournalError as exc:
                raise exceptions.CommandError('%s.' % exc)
        self.app.stdout.write('Removed %d finished task%s.\n'
                              % (removed, '' if removed == 1 else 's'))
        if kept:
            raise exceptions.CommandError(
                'Kept %d finished task%s whose reservation could not be '
                'deleted (%s): prune again with their credentials, or '
                'with --keep-reservations.' % (
                    len(kept), '' if len(kept) == 1 else 's', why))

    def _logged_in_scope(self):
        """Log in now, as osc-lib does before a command that needs it
        (this one runs without credentials when it has nothing to delete
        on the cloud)."""
        app = self.app
        app.cloud = app.cloud_config.get_one(
            cloud=app.options.cloud, argparse=app.options, validate=True,
            app_name=app.client_manager._app_name,
            app_version=app.client_manager._app_version)
        app.client_manager._cli_options = app.cloud
        app.client_manager._auth_required = True
        app.client_manager.setup_auth()
        return self.scope()

    def _delete_reservations(self, entries):
        """({uuids of the entries kept}, why) after deleting the
        reservations of ``entries`` that these credentials own."""
        if not entries:
            return set(), None
        try:
            scope = self._logged_in_scope()
        except Exception:  # no credentials: nothing can be deleted
            return {e.uuid for e in entries}, 'no credentials were given'
        kept, why = set(), None
        for entry in entries:
            if entry.scope != scope.key:
                kept.add(entry.uuid)
                why = why or 'another project\'s or user\'s'
                continue
            try:
                for rid in entry.reservation.split():
                    self.reservation_images().delete('images', rid)
            except errors.ApiError as exc:
                kept.add(entry.uuid)
                why = why or str(exc)
        return kept, why
