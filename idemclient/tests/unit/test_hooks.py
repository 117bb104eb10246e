"""The hooks on OSC's real ``server create`` and ``keypair create``."""

import importlib
import os
import stat
from unittest import mock

from openstackclient.compute.v2 import keypair
from openstackclient.compute.v2 import server
from osc_lib import exceptions
from stevedore import extension
import testtools

from idemclient.core import errors
from idemclient import hooks
from idemclient.tests.unit import shared


NAMES = {server.CreateServer: 'server create',
         keypair.CreateKeypair: 'keypair create'}


def hooked(command_class, hook_class, app):
    """OSC's command with our hook loaded the way cliff loads it."""
    cmd = command_class(app, None, cmd_name=None)
    cmd.cmd_name = NAMES[command_class]
    hook = hook_class(cmd)
    cmd._hooks = extension.ExtensionManager.make_test_instance(
        [extension.Extension('idemclient', None, hook_class, hook)])
    return cmd, hook


class HookTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        journal = self.useFixture(shared.TempJournal())
        self.dir, self.journal = journal.dir, journal.path
        self.app = shared.fake_app(self.journal)
        self.compute = self.app.client_manager.compute
        self.original_create_server = self.compute.create_server
        self.original_create_keypair = self.compute.create_keypair


class TestParsers(HookTestCase):

    def test_hooked_commands_still_build_and_show_options(self):
        for command_class, hook_class in (
                (server.CreateServer, hooks.IdempotentCreateHook),
                (keypair.CreateKeypair, hooks.IdempotentCreateHook)):
            cmd, _ = hooked(command_class, hook_class, self.app)
            parser = cmd.get_parser('openstack x create')
            text = parser.format_help()
            self.assertIn('--client-token <token>', text)
            self.assertIn('--task-tag <tag>', text)
            self.assertIn('printable ASCII', text)

    def test_server_create_parses_with_the_options(self):
        cmd, _ = hooked(server.CreateServer, hooks.IdempotentCreateHook,
                        self.app)
        args = cmd.get_parser('openstack server create').parse_args([
            '--client-token', 'T', '--task-tag', 'G', '--flavor', 'f',
            '--image', 'i', '--nic', 'none', '--tag', 'mine', 'web1'])
        self.assertEqual(('T', 'G', ['mine']),
                         (args.client_token, args.task_tag, args.tags))

    def test_entry_points_are_installed(self):
        for group, hook_class in (
                ('openstack.cli.server_create', hooks.IdempotentCreateHook),
                ('openstack.cli.keypair_create', hooks.IdempotentCreateHook)):
            mgr = extension.ExtensionManager(group)
            self.assertIn(hook_class, [e.plugin for e in mgr])

    def test_every_kind_hooks_oscs_own_command_through_cliff(self):
        """Each row of ``KINDS`` names a command that OSC has, cliff loads
        our hook on it from the installed entry points, and its help shows
        the options with the row's noun; no entry point lacks a row."""
        from importlib import metadata
        import inspect
        entry_points = metadata.entry_points()
        ours = {e.group[len('openstack.cli.'):].replace('_', ' ')
                for e in entry_points.select(name='idemclient')
                if e.group.startswith('openstack.cli.')}
        self.assertEqual(set(hooks.KINDS), ours)
        app = mock.Mock()
        app.command_manager.namespace = 'openstack.cli'
        for name, (module, noun, _, reserves) in hooks.KINDS.items():
            commands = [e.load() for group in entry_points.groups
                        if group.startswith('openstack.') and
                        not group.startswith('openstack.cli')
                        for e in entry_points.select(
                            group=group, name=name.replace(' ', '_'))]
            self.assertNotEqual([], commands, name)
            for command_class in commands:
                cmd = command_class(app, None, cmd_name=name)
                self.assertEqual([hooks.IdempotentCreateHook],
                                 [type(e.obj) for e in cmd._hooks], name)
                text = cmd.get_parser('openstack ' + name).format_help()
                self.assertIn('--client-token <token>', text, name)
                self.assertIn('one %s exists' % ' '.join(noun.split()),
                              ' '.join(text.split()), name)
                self.assertEqual(reserves, '--no-reservation' in text, name)
            install = importlib.import_module(module).install
            self.assertEqual(
                ['app', 'parsed_args', 'token', 'task_tag', 'say'],
                list(inspect.signature(install).parameters)[-5:], name)


class TestBefore(HookTestCase):

    def parse(self, argv, command_class=server.CreateServer,
              hook_class=hooks.IdempotentCreateHook):
        cmd, hook = hooked(command_class, hook_class, self.app)
        args = cmd.get_parser('openstack x create').parse_args(argv)
        return cmd, hook, args

    def test_no_token_touches_nothing(self):
        _, hook, args = self.parse(['--flavor', 'f', '--image', 'i', 's'])
        hook.before(args)
        self.assertIs(self.original_create_server,
                      self.compute.create_server)
        self.assertFalse(os.path.exists(self.journal))

    def test_invalid_token_is_refused_before_anything(self):
        for argv in (['--client-token', ''], ['--client-token', 'x' * 65],
                     ['--task-tag', 'caf\u00e9'],
                     ['--client-token', 'ok', '--task-tag', '']):
            self.app.reset_mock()
            _, hook, args = self.parse(argv + ['--flavor', 'f', 's'])
            exc = self.assertRaises(exceptions.CommandError, hook.before,
                                    args)
            self.assertRegex(str(exc), r"^Invalid (client token|task tag) "
                             r"'.*': use 1 to 64 printable ASCII characters\. "
                             r"Nothing was sent\.$")
            self.assertEqual([], self.compute.method_calls)
            self.assertFalse(os.path.exists(self.journal))

    def test_retries_without_a_token_are_refused_before_anything(self):
        _, hook, args = self.parse(['--retries', '3', '--flavor', 'f', 's'])
        exc = self.assertRaises(exceptions.CommandError, hook.before, args)
        self.assertEqual('--retries needs --client-token or --task-tag: '
                         'without one, a create is never repeated. Nothing '
                         'was sent.', str(exc))
        self.assertEqual([], self.compute.method_calls)
        self.assertIs(self.original_create_server,
                      self.compute.create_server)

    def test_token_wraps_this_invocations_create_only(self):
        _, hook, args = self.parse(['--client-token', 'T', '--flavor', 'f',
                                    's'])
        self.assertIs(args, hook.before(args))
        self.assertIsNot(self.original_create_server,
                         self.compute.create_server)
        self.assertEqual('create_server', self.compute.create_server.__name__)
        # nothing was sent while installing
        self.assertEqual([], self.original_create_server.call_args_list)

    def test_keypair_generated_key_is_taken_over(self):
        _, hook, args = self.parse(
            ['--client-token', 'T', '--private-key',
             os.path.join(self.dir, 'k'), 'k1'],
            keypair.CreateKeypair, hooks.IdempotentCreateHook)
        hook.before(args)
        # OSC reads an empty public key; the hook supplies the real one.
        self.assertEqual(os.devnull, args.public_key)
        self.assertEqual('create_keypair',
                         self.compute.create_keypair.__name__)

    def test_private_key_file_is_made_0600_even_without_token(self):
        path = os.path.join(self.dir, 'k1.pem')
        _, hook, args = self.parse(['--private-key', path, 'k1'],
                                   keypair.CreateKeypair,
                                   hooks.IdempotentCreateHook)
        old = os.umask(0o022)
        try:
            hook.before(args)
        finally:
            os.umask(old)
        self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        self.assertIs(self.original_create_keypair,
                      self.compute.create_keypair)

    def test_after_without_token_returns_its_input(self):
        _, hook, args = self.parse(['k1'], keypair.CreateKeypair,
                                   hooks.IdempotentCreateHook)
        hook.before(args)
        marker = object()
        self.assertIs(marker, hook.after(args, marker))


class TestOneCommandOnly(HookTestCase):
    """OSC's interactive shell keeps one client manager for all its
    commands: nothing a command wraps may outlive it."""

    parse = TestBefore.parse

    def token_run(self):
        cmd, hook, args = self.parse(['--client-token', 'T', '--flavor', 'f',
                                      '--image', 'i', '--nic', 'none', 's'])
        hook.before(args)
        self.assertIsNot(self.original_create_server,
                         self.compute.create_server)
        return cmd, hook, args

    def assertNothingWrapped(self):
        self.assertIs(self.original_create_server, self.compute.create_server)
        self.assertNotIn('create_server', vars(self.compute))
        self.assertNotIn('get_server', vars(self.compute))

    def test_after_puts_the_create_back(self):
        _, hook, args = self.token_run()
        self.assertEqual(0, hook.after(args, 0))
        self.assertNothingWrapped()

    def test_a_command_that_fails_puts_it_back(self):
        with mock.patch.object(server.CreateServer, 'take_action',
                               side_effect=RuntimeError('no such flavor')):
            cmd, _, args = self.token_run()
            self.assertRaises(RuntimeError, cmd.take_action, args)
        self.assertNothingWrapped()

    def test_the_next_command_undoes_what_an_earlier_one_left(self):
        self.token_run()  # neither its take_action nor its after ran
        _, hook, args = self.parse(['--flavor', 'f', '--image', 'i', 's2'])
        hook.before(args)
        self.assertNothingWrapped()


class TestOneLineErrors(HookTestCase):
    """What idemclient raises during a hooked command reaches OSC as one
    CommandError with the same words; anything else passes as it is."""

    parse = TestBefore.parse

    def raising(self, error, expected):
        """Run a hooked server create with a token whose OSC command
        raises ``error``; what the hooked command raised (``expected``)."""
        with mock.patch.object(server.CreateServer, 'take_action',
                               side_effect=error):
            cmd, hook, args = self.parse(['--client-token', 'T', '--flavor',
                                          'f', '--image', 'i', 's'])
            hook.before(args)
            return self.assertRaises(expected, cmd.take_action, args)

    def test_idemclient_errors_in_the_command_become_command_errors(self):
        refused = errors.Refused('Client token T was already used. '
                                 'Nothing was sent.')
        exc = self.raising(refused, exceptions.CommandError)
        self.assertEqual(str(refused), str(exc))
        self.assertIs(refused, exc.__cause__)

    def test_an_unknown_outcome_exits_75_on_a_command_line(self):
        unknown = errors.Unknown('The outcome of the create is unknown '
                                 '(read timeout). Run the same command '
                                 'again.')
        self.app.interactive_mode = False
        exc = self.raising(unknown, SystemExit)
        self.assertEqual(75, exc.code)
        self.assertEqual(str(unknown) + '\n', self.app.stderr.getvalue())
        TestOneCommandOnly.assertNothingWrapped(self)

    def test_an_unknown_outcome_in_the_interactive_shell_is_an_error(self):
        unknown = errors.Unknown('The outcome of the create is unknown.')
        self.app.interactive_mode = True
        exc = self.raising(unknown, exceptions.CommandError)
        self.assertEqual(str(unknown), str(exc))

    def test_other_errors_pass_untouched(self):
        self.raising(KeyError('x'), KeyError)

    def test_a_refusal_while_installing_is_a_command_error(self):
        from openstackclient.image.v2 import image
        NAMES[image.CreateImage] = 'image create'
        self.addCleanup(NAMES.pop, image.CreateImage)
        _, hook, args = self.parse(['--client-token', 'T', '--id', 'x', 'i'],
                                   image.CreateImage)
        exc = self.assertRaises(exceptions.CommandError, hook.before, args)
        self.assertIn('--id cannot be used with --client-token', str(exc))


class TestGlobalOptions(testtools.TestCase):

    def test_a_commands_own_id_option_is_not_taken_for_ours(self):
        import argparse
        from idemclient import osc_plugin
        parser = osc_plugin.build_option_parser(argparse.ArgumentParser())
        known, rest = parser.parse_known_args(
            ['image', 'create', '--id', '12', 'x'])
        self.assertIn('--id', rest)
        self.assertIsNone(known.idem_journal)
