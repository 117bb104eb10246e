"""Every kind of request idemclient protects, in one table.

A row says which OSC command makes it (None: not a create command), its
journal operation, the prefix of the marker that carries its task id on
the cloud (``token.id_tag``), the noun the help and messages use, the
service whose API holds the resource and that API's collection, and the
module that wraps the create (``install(app, parsed_args, token, task_tag,
say)``) with what to run first on every such command, token or not.
Every other table (the hook's commands, the id prefixes, each service's
kinds in the task model) is derived from this one, and ``setup.cfg`` has
one hook entry point per command here (a unit test checks both ways).

``operation`` and ``id_prefix`` are stored in journals and on clouds by
released versions: never change one (``tests/unit/test_registry.py``).
Plain strings only: this module is read on every hooked command.
"""

import collections

Kind = collections.namedtuple('Kind', (
    'command', 'operation', 'id_prefix', 'noun', 'service', 'collection',
    'module', 'prepare', 'tasks'))

KINDS = (
    Kind('server create', 'server.create', 'idem-tc-', 'server', 'compute',
         'servers', 'idemclient.kinds.server', None,
         'idemclient.kinds.server_tasks'),
    Kind('keypair create', 'keypair.create', 'idem-tk-', 'keypair',
         'compute', 'os-keypairs', 'idemclient.kinds.keypair',
         'idemclient.core.keyfile:protect_key_file',
         'idemclient.kinds.keypair'),
    Kind('volume create', 'volume.create', 'idem-tv-', 'volume',
         'block-storage', 'volumes', 'idemclient.kinds.volume', None,
         'idemclient.kinds.cinder_tasks'),
    Kind('volume snapshot create', 'snapshot.create', 'idem-tn-',
         'snapshot', 'block-storage', 'snapshots',
         'idemclient.kinds.snapshot', None, 'idemclient.kinds.cinder_tasks'),
    Kind('volume backup create', 'backup.create', 'idem-tb-', 'backup',
         'block-storage', 'backups', 'idemclient.kinds.backup', None,
         'idemclient.kinds.cinder_tasks'),
    Kind('network create', 'network.create', 'idem-tw-', 'network',
         'network', 'networks', 'idemclient.kinds.network', None,
         'idemclient.kinds.neutron_tasks'),
    Kind('port create', 'port.create', 'idem-tp-', 'port', 'network',
         'ports', 'idemclient.kinds.port', None,
         'idemclient.kinds.neutron_tasks'),
    Kind('router create', 'router.create', 'idem-tr-', 'router', 'network',
         'routers', 'idemclient.kinds.router', None,
         'idemclient.kinds.neutron_tasks'),
    Kind('security group create', 'security_group.create', 'idem-tg-',
         'security group', 'network', 'security-groups',
         'idemclient.kinds.security_group', None,
         'idemclient.kinds.neutron_tasks'),
    Kind('floating ip create', 'floating_ip.create', 'idem-tf-',
         'floating IP', 'network', 'floatingips',
         'idemclient.kinds.floating_ip', None,
         'idemclient.kinds.neutron_tasks'),
    Kind('image create', 'image.create', 'idem-ti-', 'image', 'image',
         'images', 'idemclient.kinds.image', None,
         'idemclient.kinds.glance_tasks'),
    # Nova's createImage makes a Glance image: the task is the image's.
    Kind('server image create', 'server_image.create', 'idem-tm-', 'image',
         'image', 'images', 'idemclient.kinds.server_image', None,
         'idemclient.kinds.glance_tasks'),
    # python-octaviaclient's command: hooked only where it is installed.
    Kind('loadbalancer create', 'load_balancer.create', 'idem-tl-',
         'load balancer', 'load-balancer', 'loadbalancers',
         'idemclient.kinds.load_balancer', None,
         'idemclient.kinds.load_balancer'),
    # ``openstack server volume swap --task-tag``: tracked, not a create.
    Kind(None, 'server.swap_volume', 'idem-ts-', 'volume swap', 'compute',
         'servers', 'idemclient.kinds.volume_swap', None,
         'idemclient.kinds.volume_swap'),
)

# Creates the cloud itself refuses twice (Nova a second key name, Glance a
# second image id): they take no reservation (``idemclient.reservations``).
UNIQUE_ON_THE_CLOUD = frozenset(('keypair.create', 'image.create'))

BY_COMMAND = {kind.command: kind for kind in KINDS if kind.command}
BY_OPERATION = {kind.operation: kind for kind in KINDS}
SWAP = next(kind for kind in KINDS if kind.command is None)


def of_service(service):
    """The creates whose resources live in ``service``'s API, in order."""
    return tuple(kind for kind in KINDS
                 if kind.service == service and kind.command)


def reserves(kind):
    """Whether ``kind``'s creates take a reservation."""
    return kind.command is not None and \
        kind.operation not in UNIQUE_ON_THE_CLOUD


def task_modules():
    """The modules observing tasks, each once, in the table's order."""
    seen = []
    for kind in KINDS:
        if kind.tasks not in seen:
            seen.append(kind.tasks)
    return seen
