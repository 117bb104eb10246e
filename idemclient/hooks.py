"""One cliff hook that adds ``--client-token`` and ``--task-tag`` to OSC's
own create commands; which kind of resource each makes is the table
``KINDS``.

Thin on purpose: ``get_parser`` declares, ``before`` validates and has the
kind's module wrap the create call for this one invocation, ``after`` lets
it finish (decide a race, hand over a kept private key). Everything heavy is
imported only when a token or a task tag is given: this module is loaded
for every ``server create``.
"""

import importlib

from cliff import hooks

from idemclient import boundary
from idemclient.core import registry
from idemclient import wrapping

TOKEN_HELP = (
    'Make the create safe to retry: run the same command with the same '
    'token any number of times (after a timeout, a crash, from another '
    'host with the same credentials) and one {noun} exists, printed by '
    'every run. 1 to 64 printable ASCII characters, case-sensitive; it '
    'belongs to this auth URL, project and user. The same token with '
    'other parameters is refused before anything is sent.')
NO_RESERVATION_HELP = (
    'With --client-token or --task-tag: do not reserve the request in the '
    'image service first (a hidden, data-less image, the only create '
    'every cloud refuses twice). Runs from several hosts at the same '
    'moment may then make two {noun}s{settled}. Also '
    '$IDEMCLIENT_RESERVATIONS=off, or "idemclient_reservations: false" in '
    'clouds.yaml.')
RETRIES_HELP = (
    'With --client-token or --task-tag: after no answer (a connection '
    'error, a read timeout) or a 429, 502, 503 or 504, run the request '
    'again this many times, looking it up first (never a blind repeat), '
    'with growing random waits and at least what Retry-After asks; no try '
    'starts a minute after the first. Default 2 (three tries); 0 turns '
    'retries off. Also $IDEMCLIENT_RETRIES, or "idemclient_retries: N" in '
    'clouds.yaml.')
TASK_TAG_HELP = (
    'Mark the request for tracking with "openstack task show --tag '
    '<tag>" (what became of it if the response was lost). Alone, it also '
    'protects the request like --client-token. Same rule as a token.')


# OSC command -> (kind module, noun, what to run first whatever the
# options: a cheap "module:function" of parsed_args, or None, whether it
# reserves), from the one table of kinds (``core.registry``).
KINDS = {kind.command: (kind.module, kind.noun, kind.prepare,
                        registry.reserves(kind))
         for kind in registry.KINDS if kind.command}


class IdempotentCreateHook(hooks.CommandHook):
    """Add --client-token and --task-tag to an OpenStackClient create.

    With either, one resource exists however often the command is run.
    """

    def __init__(self, command):
        super().__init__(command)
        self._module, self.noun, self._prepare, self._reserves = KINDS[
            command.cmd_name]
        self._invocation = None
        self._reporter = None

    def get_parser(self, parser):
        parser.add_argument('--client-token', metavar='<token>',
                            help=TOKEN_HELP.format(noun=self.noun))
        parser.add_argument('--task-tag', metavar='<tag>',
                            help=TASK_TAG_HELP)
        parser.add_argument('--retries', metavar='<count>',
                            help=RETRIES_HELP)
        if self._reserves:
            parser.add_argument(
                '--no-reservation', action='store_true',
                help=NO_RESERVATION_HELP.format(
                    noun=self.noun, settled=' for a few seconds, until '
                    'the settle step deletes the extras'
                    if self.noun == 'server' else ''))
        return parser

    def get_epilog(self):
        return ''

    def before(self, parsed_args):
        # A create wrapped by an earlier command of this shell that failed
        # (``after`` then never ran) must not take this command's create.
        wrapping.unwrap_all()
        if self._prepare:
            module, _, function = self._prepare.partition(':')
            getattr(importlib.import_module(module), function)(parsed_args)
        token = getattr(parsed_args, 'client_token', None)
        task_tag = getattr(parsed_args, 'task_tag', None)
        from osc_lib import exceptions
        if token is None and task_tag is None:
            if getattr(parsed_args, 'retries', None) is not None:
                raise exceptions.CommandError(
                    '--retries needs --client-token or --task-tag: without '
                    'one, a create is never repeated. Nothing was sent.')
            return parsed_args
        from idemclient.core import token as tokens
        try:
            tokens.validate_given(token, task_tag)
        except tokens.InvalidToken as exc:
            raise exceptions.CommandError('%s. Nothing was sent.' % exc)
        from idemclient import output
        self._reporter = output.Reporter(self.cmd.app)
        with boundary.translated():
            self._invocation = importlib.import_module(
                self._module).install(self.cmd.app, parsed_args, token,
                                      task_tag, self._reporter)
            self._refuse_other_paths(token is not None)
        self._unwrap_if_it_fails()
        return parsed_args

    def _refuse_other_paths(self, with_token):
        """A create that leaves by another path than the wrapped call
        would ignore the token (or the tag): refuse it before it is
        sent."""
        from idemclient.core import errors
        option = '--client-token' if with_token else '--task-tag'
        command = self.cmd.cmd_name

        def refusal(path):
            return errors.Refused(
                'openstack %s took a path that idemclient does not protect '
                '(POST %s), where %s would be ignored: refused. Nothing was '
                'sent.' % (command, path, option))
        wrapping.refuse_unprotected_posts(refusal)

    def _unwrap_if_it_fails(self):
        """cliff runs no ``after`` for a command that raised: undo the
        wraps then. (cliff makes a new command object per command.) What
        idemclient raised leaves as one ``CommandError``."""
        from idemclient import output
        take_action = self.cmd.take_action
        app, reporter = self.cmd.app, self._reporter

        def take_action_or_unwrap(parsed_args):
            try:
                with boundary.translated(app):
                    return output.with_outcome(take_action(parsed_args),
                                               reporter.outcome)
            except BaseException:
                wrapping.unwrap_all()
                raise
        self.cmd.take_action = take_action_or_unwrap

    def after(self, parsed_args, return_code):
        if self._invocation is None:
            return return_code
        try:
            with boundary.translated():
                return self._invocation.after(parsed_args, return_code)
        finally:
            wrapping.unwrap_all()
