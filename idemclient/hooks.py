"""cliff hooks that add ``--client-token`` and ``--task-tag`` to OSC's own
``server create`` and ``keypair create``.

Thin on purpose: ``get_parser`` declares, ``before`` validates and wraps the
compute proxy's create call for this one invocation, ``after`` hands a kept
private key to the user. Everything heavy is imported only when a token or a
task tag is given: this module is loaded for every ``server create``.
"""

import os

from cliff import hooks

TOKEN_HELP = (
    'Make the create safe to retry: run the same command with the same '
    'token any number of times (after a timeout, a crash, from another '
    'host with the same credentials) and one {noun} exists, printed by '
    'every run. 1 to 64 printable ASCII characters, case-sensitive; it '
    'belongs to this auth URL, project and user. The same token with '
    'other parameters is refused before anything is sent.')
TASK_TAG_HELP = (
    'Mark the request for tracking with "openstack task show --tag '
    '<tag>" (what became of it if the response was lost). Alone, it also '
    'protects the request like --client-token. Same rule as a token.')


def journal_path(app):
    from idemclient import journal
    return getattr(app.options, 'idem_journal', None) or \
        journal.default_path()


def scope_of(app, adapter):
    """(auth URL, project, user) of the session the command uses."""
    from idemclient import token
    auth = adapter.session.auth
    auth_url = getattr(auth, 'auth_url', None) or \
        app.client_manager.get_configuration().get('auth', {}).get(
            'auth_url')
    return token.Scope(auth_url, adapter.get_project_id(),
                       adapter.get_user_id())


class _IdempotentCreateHook(hooks.CommandHook):
    noun = None

    def get_parser(self, parser):
        parser.add_argument('--client-token', metavar='<token>',
                            help=TOKEN_HELP.format(noun=self.noun))
        parser.add_argument('--task-tag', metavar='<tag>',
                            help=TASK_TAG_HELP)
        return parser

    def get_epilog(self):
        return ''

    def before(self, parsed_args):
        token = getattr(parsed_args, 'client_token', None)
        task_tag = getattr(parsed_args, 'task_tag', None)
        if token is None and task_tag is None:
            return parsed_args
        from osc_lib import exceptions
        from idemclient import token as tokens
        try:
            if token is not None:
                tokens.validate(token)
            if task_tag is not None:
                tokens.validate(task_tag, 'task tag')
        except tokens.InvalidToken as exc:
            raise exceptions.CommandError('%s. Nothing was sent.' % exc)
        self.install(parsed_args, token, task_tag)
        return parsed_args

    def say(self, message):
        from idemclient import output
        output.say(self.cmd.app, message)

    def after(self, parsed_args, return_code):
        return return_code


def settle_seconds(app):
    """D of the settle step (``converge``): option, environment, 3 s."""
    from osc_lib import exceptions
    from idemclient import converge
    try:
        return converge.seconds_from(
            getattr(app.options, 'idem_settle_seconds', None))
    except ValueError as exc:
        raise exceptions.CommandError('%s Nothing was sent.' % exc)


def coordination_url(app):
    from idemclient import coordination
    return coordination.backend_url(
        app.client_manager.get_configuration())


class ServerCreateHook(_IdempotentCreateHook):
    """Add --client-token and --task-tag to "openstack server create".

    With either, one server exists however often the command is run.
    """

    noun = 'server'
    _invocation = None

    def install(self, parsed_args, token, task_tag):
        from idemclient import server_create
        app = self.cmd.app
        compute = app.client_manager.compute
        self._invocation = server_create.Invocation(
            compute, journal_path(app), lambda: scope_of(app, compute),
            token, task_tag, self.say, settle_seconds(app),
            coordination_url(app), getattr(parsed_args, 'wait', False))
        self._invocation.install()

    def after(self, parsed_args, return_code):
        if self._invocation is not None:
            self._invocation.finish()
        return return_code


class KeypairCreateHook(_IdempotentCreateHook):
    """Add --client-token and --task-tag to "openstack keypair create".

    With either, one keypair exists however often the command is run, and
    every run gives the same generated private key.
    """

    noun = 'keypair'
    _kind = None
    _private_key_file = None

    def before(self, parsed_args):
        private_key = getattr(parsed_args, 'private_key', None)
        if private_key and not getattr(parsed_args, 'public_key', None):
            # OSC writes the file with the umask's mode (0644): a leak.
            # Create it 0600 first; OSC's open(..., 'w+') keeps the mode.
            from idemclient import keyfile
            keyfile.ensure_private(private_key)
        return super().before(parsed_args)

    def install(self, parsed_args, token, task_tag):
        from idemclient import keypair_create
        app = self.cmd.app
        compute = app.client_manager.compute
        generated = not parsed_args.public_key
        if generated:
            # The key must be chosen under the request's lock (see
            # KeypairKind.bind), after OSC's own generation would have run:
            # let OSC read an empty public key and supply ours in its place.
            self._private_key_file = parsed_args.private_key
            parsed_args.public_key = os.devnull
        original = compute.create_keypair
        hook = self

        def create_keypair(**kwargs):
            from idemclient import client as api
            from idemclient import idempotent
            scope = scope_of(app, compute)
            request = keypair_create.request_for(scope, kwargs, token,
                                                 task_tag, generated)
            hook._kind = keypair_create.KeypairKind(
                api.ComputeClient(compute), original, kwargs, request,
                generated)
            return idempotent.run_once(journal_path(app), request,
                                       hook._kind, hook.say)

        compute.create_keypair = create_keypair

    def after(self, parsed_args, return_code):
        private_key = self._kind.kept_secret() if self._kind else None
        if not private_key:
            return return_code
        if self._private_key_file:
            from idemclient import keyfile
            keyfile.write_private(self._private_key_file, private_key)
            return return_code
        self.cmd.app.stdout.write(private_key)
        return ((), ())
