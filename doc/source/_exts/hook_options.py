"""Render the options idemclient adds to OSC from the code that adds them.

cliff's ``autoprogram-cliff`` builds each command without its hooks, so
``--client-token`` would never show under ``openstack server create``.
These directives call the same ``get_parser`` that ``--help`` calls:

``.. idemclient-hook:: openstack.cli.server_create``
    idemclient's hook in that entry point group: its docstring, then its
    options, under ``openstack server create``.
``.. idemclient-global-options::``
    the options the plugin adds to ``openstack`` itself.
"""

import argparse
import importlib.metadata
import inspect
import types

from docutils import nodes
from docutils.parsers import rst
from docutils import statemachine

HOOK_GROUP_PREFIX = 'openstack.cli.'


def _option_lines(parser):
    """reST ``option`` directives for every option in ``parser``."""
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or not action.option_strings:
            continue
        names = action.option_strings
        if action.nargs != 0:
            names = ['%s %s' % (n, action.metavar or action.dest.upper())
                     for n in names]
        yield '.. option:: %s' % ', '.join(names)
        yield ''
        for line in statemachine.string2lines(action.help or '',
                                              convert_whitespace=True):
            yield '    ' + line
        yield ''


def _lines(description, prog, parser):
    yield from statemachine.string2lines(description or '',
                                         convert_whitespace=True)
    yield ''
    yield '.. program:: %s' % prog
    yield ''
    yield from _option_lines(parser)


class _OptionsDirective(rst.Directive):

    def render(self, description, prog, parser):
        text = statemachine.StringList()
        for line in _lines(description, prog, parser):
            text.append(line, '<%s>' % prog)
        node = nodes.container()
        self.state.nested_parse(text, self.content_offset, node)
        return node.children


class HookOptions(_OptionsDirective):
    """The options of idemclient's hook in one entry point group."""

    required_arguments = 1

    def run(self):
        group = self.arguments[0]
        if not group.startswith(HOOK_GROUP_PREFIX):
            raise self.error('not a command hook group: %s' % group)
        hooks = [ep for ep in importlib.metadata.entry_points(group=group)
                 if ep.module.split('.')[0] == 'idemclient']
        if len(hooks) != 1:
            raise self.error('expected one idemclient hook in %s, found %d '
                             '(is idemclient installed?)'
                             % (group, len(hooks)))
        hook_class = hooks[0].load()
        prog = 'openstack ' + group[len(HOOK_GROUP_PREFIX):].replace(
            '_', ' ')
        parser = argparse.ArgumentParser(prog=prog, add_help=False)
        command = types.SimpleNamespace(cmd_name=prog[len('openstack '):])
        hook_class(command).get_parser(parser)
        return self.render(inspect.getdoc(hook_class), prog, parser)


class GlobalOptions(_OptionsDirective):
    """The options the plugin adds to ``openstack`` itself."""

    def run(self):
        from idemclient import osc_plugin
        parser = argparse.ArgumentParser(prog='openstack', add_help=False)
        osc_plugin.build_option_parser(parser)
        return self.render(None, 'openstack', parser)


def setup(app):
    app.add_directive('idemclient-hook', HookOptions)
    app.add_directive('idemclient-global-options', GlobalOptions)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
