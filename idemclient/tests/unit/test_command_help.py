"""Every command and hook idemclient registers explains itself.

cliff shows a command's docstring as its help, and ``openstack help`` its
first line. A class whose docstring Python does not see (one built by
concatenation, or none) silently shows its base class's: "Command base
class for displaying data about a single object." The commands are found
through the installed entry points, so ones added later are checked too.
"""

import argparse
import configparser
import importlib.metadata
import inspect
import os
from unittest import mock

import testtools

from idemclient import hooks
from idemclient import osc_plugin

COMMAND_GROUP = 'openstack.idem.v1'
# Every OSC command the hook table names (so a new kind is checked too).
HOOK_GROUPS = tuple('openstack.cli.' + name.replace(' ', '_')
                    for name in hooks.KINDS)
SETUP_CFG = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                         os.pardir, 'setup.cfg')


def installed(group):
    """idemclient's entry points in ``group``, by name."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=group)
            if ep.module.split('.')[0] == 'idemclient'}


def declared(group):
    """The entry point names setup.cfg declares in ``group``."""
    config = configparser.ConfigParser()
    config.read(SETUP_CFG)
    lines = config.get('entry_points', group, fallback='').splitlines()
    return {line.split('=')[0].strip() for line in lines if line.strip()}


def own_doc(cls):
    """The docstring ``cls`` itself defines (not one it inherits)."""
    doc = cls.__dict__.get('__doc__')
    return inspect.cleandoc(doc) if isinstance(doc, str) else None


def summary(text):
    return (text or '').strip().split('\n')[0].strip()


def description_problem(cls, description):
    """Why ``description`` is not this class's own help, or None."""
    first = summary(description)
    if not first:
        return 'no description'
    for base in cls.__mro__[1:]:
        if first == summary(own_doc(base)):
            return 'description inherited from %s.%s: %r' % (
                base.__module__, base.__name__, first)
    if not first[0].isupper():
        return 'description does not start with a capital: %r' % first
    return None


def added_actions(parser, before):
    """The parser's actions that ``before`` (a parser) does not have."""
    known = {(tuple(a.option_strings), a.dest) for a in before._actions}
    return [a for a in parser._actions
            if (tuple(a.option_strings), a.dest) not in known]


def help_problems(actions):
    problems = []
    for action in actions:
        name = '/'.join(action.option_strings) or action.dest
        text = (action.help or '').strip()
        if not text:
            problems.append('%s has no help' % name)
        elif not text[0].isupper():
            problems.append('%s help does not start with a capital: %r'
                            % (name, text))
    return problems


def cliff_base(cls):
    """The first osc-lib or cliff class a command is built on."""
    return next(c for c in cls.__mro__
                if c.__module__.split('.')[0] in ('osc_lib', 'cliff'))


class TestRegistered(testtools.TestCase):

    def test_setup_cfg_commands_are_installed(self):
        # Otherwise a command added to setup.cfg would escape the checks
        # below until the virtualenv is reinstalled.
        for group in (COMMAND_GROUP,) + HOOK_GROUPS:
            self.assertEqual(declared(group), set(installed(group)),
                             '%s: reinstall idemclient (tools/setup-'
                             'venv.sh)' % group)
        self.assertIn('task_show', installed(COMMAND_GROUP))
        config = configparser.ConfigParser()
        config.read(SETUP_CFG)
        hooked = {g for g in config.options('entry_points')
                  if g.startswith('openstack.cli.') and
                  g != 'openstack.cli.extension'}
        self.assertEqual(set(HOOK_GROUPS), hooked)


class TestCommandHelp(testtools.TestCase):

    def commands(self):
        found = installed(COMMAND_GROUP)
        self.assertNotEqual({}, found)
        return {name.replace('_', ' '): ep.load()
                for name, ep in sorted(found.items())}

    def test_every_command_has_its_own_description(self):
        problems = []
        for name, cls in self.commands().items():
            cmd = cls(mock.Mock(), mock.Mock())
            problem = description_problem(cls, cmd.get_description())
            if problem:
                problems.append('%s: %s' % (name, problem))
        self.assertEqual([], problems)

    def test_every_option_has_help(self):
        problems = []
        for name, cls in self.commands().items():
            cmd = cls(mock.Mock(), mock.Mock())
            prog = 'openstack ' + name
            parser = cmd.get_parser(prog)
            base = cliff_base(cls).get_parser(cmd, prog)
            actions = added_actions(parser, base)
            if not actions:
                problems.append('%s: adds no options or arguments' % name)
            problems.extend('%s: %s' % (name, p)
                            for p in help_problems(actions))
        self.assertEqual([], problems)

    def test_the_check_sees_an_inherited_description(self):
        from osc_lib.command import command

        class Concatenated(command.ShowOne):
            """Not a docstring: Python keeps only a literal.

            More: """ + 'text'

            def take_action(self, parsed_args):
                return (), ()

        cmd = Concatenated(mock.Mock(), mock.Mock())
        self.assertIn('inherited from cliff.show.ShowOne',
                      description_problem(Concatenated,
                                          cmd.get_description()))


class TestHookHelp(testtools.TestCase):

    def hooks(self):
        found = {}
        for group in HOOK_GROUPS:
            for name, ep in installed(group).items():
                found['%s:%s' % (group, name)] = ep.load()
        self.assertEqual(len(HOOK_GROUPS), len(found))
        return found

    def test_every_hook_has_its_own_docstring(self):
        problems = []
        for name, cls in self.hooks().items():
            problem = description_problem(cls, inspect.getdoc(cls))
            if problem:
                problems.append('%s: %s' % (name, problem))
        self.assertEqual([], problems)

    def test_every_hook_option_has_help(self):
        problems = []
        for name, cls in self.hooks().items():
            parser = argparse.ArgumentParser(prog='openstack x create')
            command = name.split(':')[0].split('.')[-1].replace('_', ' ')
            cls(mock.Mock(cmd_name=command)).get_parser(parser)
            actions = added_actions(parser, argparse.ArgumentParser())
            if not actions:
                problems.append('%s: adds no options' % name)
            problems.extend('%s: %s' % (name, p)
                            for p in help_problems(actions))
        self.assertEqual([], problems)


class TestGlobalOptionHelp(testtools.TestCase):

    def test_plugin_options_have_help(self):
        parser = osc_plugin.build_option_parser(argparse.ArgumentParser())
        actions = added_actions(parser, argparse.ArgumentParser())
        self.assertEqual(['--os-idem-api-version', '--idem-journal',
                          '--idem-settle-seconds'],
                         [a.option_strings[0] for a in actions])
        self.assertEqual([], help_problems(actions))


class TestTaskShowHelp(testtools.TestCase):

    def test_lists_every_state_after_its_own_summary(self):
        from idemclient.commands import task as task_commands
        from idemclient import tasks
        text = task_commands.ShowTask(mock.Mock(), mock.Mock()) \
            .get_description()
        self.assertTrue(text.startswith('Show what became of a request'))
        for state, meaning in tasks.STATES.items():
            self.assertIn('%s: %s' % (state, meaning), text)
