"""idemclient for Python programs on openstacksdk: creates safe to retry,
and what became of a request, through an ``openstack.connection.Connection``.

::

    import openstack
    from idemclient import api

    conn = openstack.connect(cloud='mycloud')
    made = api.create(conn, 'network', client_token='app-net-1',
                      name='app-net')
    print(made.resource.id, made.outcome)   # 'created', then 'existed'
    task = api.task(conn, tag='nightly')    # as ``openstack task show``

The same journal, markers, reservations and retries as the ``openstack``
command, through the same kinds (``core.registry``): a token used here
and on the command line names one request when the arguments are the
same. ``attrs`` are what the command passes to the SDK, ids resolved;
what it adds of its own when an option is not given is added here too
(``as_the_command_sends``), so that ``create(conn, 'network',
client_token=T, name='n')`` is ``openstack network create --client-token T
n``.

Errors are ``errors.IdemError``'s: ``Refused`` (nothing was sent: bad
input, other parameters, a cloud that cannot protect the create),
``Unknown`` (sent, no answer: call again, it finds out), ``ApiError`` (the
cloud refused the create). Creates through this module in one process run
one at a time: a kind wraps the connection's proxy for its one call.
"""

import dataclasses
import importlib
import io
import logging
import threading
import types
import typing

from idemclient.clients import errors
from idemclient import context
from idemclient.core import idempotent
from idemclient.core import journal as journal_mod
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient import wrapping

LOG = logging.getLogger(__name__)

IdemError = errors.IdemError
Refused = errors.Refused
Unknown = errors.Unknown
ApiError = errors.ApiError

# Kind name -> (the OSC command its kind protects, the client manager's
# service the create call is on, the SDK create call).
CREATES = {
    'server': ('server create', 'compute', 'create_server'),
    'keypair': ('keypair create', 'compute', 'create_keypair'),
    'volume': ('volume create', 'volume', 'create_volume'),
    'snapshot': ('volume snapshot create', 'volume', 'create_snapshot'),
    'backup': ('volume backup create', 'volume', 'create_backup'),
    'network': ('network create', 'network', 'create_network'),
    'port': ('port create', 'network', 'create_port'),
    'router': ('router create', 'network', 'create_router'),
    'security_group': ('security group create', 'network',
                       'create_security_group'),
    'floating_ip': ('floating ip create', 'network', 'create_ip'),
    'image': ('image create', 'image', 'create_image'),
    'server_image': ('server image create', 'compute',
                     'create_server_image'),
    # octaviaclient's call (``pip install idemclient[octavia]``): its
    # arguments are the body, ``attrs`` as the command sends them.
    'load_balancer': ('loadbalancer create', 'load_balancer',
                      'load_balancer_create'),
}

_ONE_AT_A_TIME = threading.Lock()


def as_the_command_sends(kind, attrs):
    """``attrs`` with what OSC's create command sends when none of its
    options says otherwise (read in python-openstackclient's commands)."""
    attrs = dict(attrs)
    if kind in ('network', 'port', 'router'):
        attrs.setdefault('admin_state_up', True)          # --enable
    elif kind == 'security_group':
        attrs.setdefault('description', attrs.get('name'))
    elif kind == 'backup':
        attrs.setdefault('force', False)
        attrs.setdefault('is_incremental', False)
    elif kind == 'image':
        attrs.setdefault('container_format', 'bare')
        attrs.setdefault('disk_format', 'raw')
    elif kind == 'load_balancer':
        attrs.setdefault('admin_state_up', True)          # --enable
    elif kind == 'server':
        attrs.setdefault('min_count', 1)
        attrs.setdefault('max_count', 1)
        if attrs.get('image_id') and 'block_device_mapping' not in attrs:
            attrs['block_device_mapping'] = [{
                'uuid': attrs['image_id'], 'boot_index': 0,
                'source_type': 'image', 'destination_type': 'local',
                'delete_on_termination': True}]
    return attrs


@dataclasses.dataclass(frozen=True)
class Created:
    """What ``create`` made or found."""

    resource: typing.Any          # the SDK resource, as the call returns it
    outcome: str                  # 'created' (sent now) or 'existed'
    task_id: str                  # the request's id, the same on every host
    private_key: typing.Optional[str] = None  # a keypair's generated key


def create(conn, kind: str, *, client_token: typing.Optional[str] = None,
           task_tag: typing.Optional[str] = None,
           journal: typing.Optional[str] = None,
           retries: typing.Optional[int] = None,
           reservations: bool = True,
           progress: typing.Optional[typing.Callable[[str], None]] = None,
           **attrs) -> Created:
    """Create a ``kind`` (a key of ``CREATES``) at most once per token.

    ``attrs`` are the SDK create call's arguments (for ``server_image``:
    ``server`` and ``name``, and ``metadata``). ``client_token`` or
    ``task_tag`` (or both) is required. ``journal`` is the journal's path
    (default: the command's); ``retries`` as ``--retries`` (default: the
    environment, clouds.yaml, then 2); ``reservations=False`` as
    ``--no-reservation``; ``progress`` receives what the command writes on
    standard error (default: this module's logger, at INFO).
    """
    if kind not in CREATES:
        raise Refused('No kind %r: one of %s. Nothing was sent.'
                      % (kind, ', '.join(sorted(CREATES))))
    if client_token is None and task_tag is None:
        raise Refused('A client token or a task tag is needed. Nothing was '
                      'sent.')
    try:
        tokens.validate_given(client_token, task_tag)
    except tokens.InvalidToken as exc:
        raise Refused('%s. Nothing was sent.' % exc) from exc
    command, service, call = CREATES[kind]
    row = registry.BY_COMMAND[command]
    app = _App(conn, journal)
    say = _Say(progress)
    attrs = as_the_command_sends(kind, attrs)
    args = _arguments(attrs, retries, reservations)
    with _ONE_AT_A_TIME:
        try:
            invocation = importlib.import_module(row.module).install(
                app, args, client_token, task_tag, say)
            proxy = getattr(app.client_manager, service)
            if kind == 'load_balancer':
                result = proxy.load_balancer_create(
                    json={'loadbalancer': attrs})['loadbalancer']
                proxy = app.client_manager.network  # for the scope
            else:
                result = getattr(proxy, call)(**attrs)
            invocation.after(args, 0)
        finally:
            wrapping.unwrap_all()
    task_id = journal_mod.entry_id(
        context.scope_of(app, proxy).key, row.operation,
        idempotent.idem_key(client_token, task_tag))
    secret = None
    if kind == 'keypair' and getattr(invocation, 'kind', None):
        secret = invocation.kind.kept_secret()
    return Created(result, say.outcome, task_id, secret)


def task(conn, task_id: typing.Optional[str] = None, *,
         tag: typing.Optional[str] = None,
         journal: typing.Optional[str] = None,
         search_resources: bool = False) -> typing.Dict[str, typing.Any]:
    """What became of a request, as ``openstack task show`` shows it: by
    its id or by its task ``tag``, from this host's journal or the cloud.
    Raises ``LookupError`` when no task (or more than one) matches."""
    from idemclient.commands import task as task_commands
    from idemclient import tasks
    if (task_id is None) == (tag is None):
        raise ValueError('Give a task id or a tag, not both and not neither.')
    reader = task_commands.TaskReader()
    reader.app = _App(conn, journal)
    with reader.open_journal() as opened:
        found = reader.found(opened, task_id, tag, search_resources)
    if len(found) != 1:
        raise LookupError('%s tasks with %s' % (
            len(found) or 'No', task_id or 'tag %r' % tag))
    return {name: found[0][name] for name in tasks.columns(found[0])}


class _Say:
    """The kinds' ``say``: progress to ``progress`` or the logger; it is
    also told how the request ended (``outcome``)."""

    def __init__(self, progress):
        self._progress = progress or (lambda message: LOG.info(message))
        self.outcome = None

    def __call__(self, message):
        self._progress(message)


def _arguments(attrs, retries, reservations):
    """The parsed options a kind reads (``--no-reservation``,
    ``--retries``, and the few a command has of its own)."""
    return types.SimpleNamespace(
        no_reservation=not reservations,
        retries=None if retries is None else str(retries), wait=False,
        id=None, public_key=attrs.get('public_key') or None,
        private_key=None)


class _ClientManager:
    """What the kinds read from OSC's client manager, from a Connection:
    its SDK proxies, session, region, catalog and clouds.yaml entry."""

    def __init__(self, conn):
        self._conn = conn
        self.session = conn.session
        self.region_name = conn.config.get_region_name()
        self.interface = conn.config.get_interface()

    compute = property(lambda self: self._conn.compute)
    volume = property(lambda self: self._conn.block_storage)
    network = property(lambda self: self._conn.network)
    image = property(lambda self: self._conn.image)

    @property
    def load_balancer(self):
        """octaviaclient's API, as its OSC plugin makes it: one per call
        of this module, as OSC's client manager keeps one."""
        if '_load_balancer' not in vars(self):
            try:
                from octaviaclient.osc import plugin
            except ImportError:
                raise Refused('Load balancers need python-octaviaclient '
                              '(pip install idemclient[octavia]). Nothing '
                              'was sent.')
            self._load_balancer = plugin.make_client(self)
        return self._load_balancer

    def get_endpoint_for_service_type(self, service_type, region_name=None,
                                      interface=None):
        return self._conn.endpoint_for(service_type)

    @property
    def auth_ref(self):
        return self.session.auth.get_access(self.session)

    def get_configuration(self):
        return self._conn.config.config

    def is_network_endpoint_enabled(self):
        return self._conn.has_service('network')


class _App:
    """OSC's app as the kinds see it, for one call of this module."""

    interactive_mode = True  # errors are raised, never an exit

    def __init__(self, conn, journal):
        self.client_manager = _ClientManager(conn)
        self.options = types.SimpleNamespace(idem_journal=journal,
                                             idem_settle_seconds=None)
        # A command's output, unread: the result is returned instead (a
        # generated private key too, in ``Created.private_key``).
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
