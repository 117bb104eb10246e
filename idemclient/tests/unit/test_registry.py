"""The one table of kinds (``core.registry``): what released versions
stored stays as it was, and everything else agrees with it."""

import testtools

from idemclient import contract
from idemclient.core import registry
from idemclient.core import token
from idemclient import hooks
from idemclient.kinds import cinder_tasks
from idemclient.kinds import glance_tasks
from idemclient.kinds import load_balancer
from idemclient.kinds import neutron_tasks
from idemclient import tasks

# Journal operations and task-id marker prefixes as idemclient stored them
# in journals and on clouds before the registry existed (commit 18c81e4).
STORED = {
    'server.create': 'idem-tc-', 'server.swap_volume': 'idem-ts-',
    'keypair.create': 'idem-tk-', 'volume.create': 'idem-tv-',
    'snapshot.create': 'idem-tn-', 'backup.create': 'idem-tb-',
    'network.create': 'idem-tw-', 'port.create': 'idem-tp-',
    'router.create': 'idem-tr-', 'security_group.create': 'idem-tg-',
    'floating_ip.create': 'idem-tf-', 'image.create': 'idem-ti-',
    'server_image.create': 'idem-tm-',
    # and each kind added since, as its first release stored it
    'load_balancer.create': 'idem-tl-'}


class TestRegistry(testtools.TestCase):

    def test_stored_strings_are_unchanged(self):
        self.assertEqual(STORED, {kind.operation: kind.id_prefix
                                  for kind in registry.KINDS})

    def test_one_row_per_command_operation_and_prefix(self):
        for field in ('command', 'operation', 'id_prefix', 'module'):
            values = [getattr(kind, field) for kind in registry.KINDS]
            self.assertEqual(len(values), len(set(values)), field)

    def test_the_other_tables_are_derived_from_it(self):
        self.assertEqual(set(hooks.KINDS), set(registry.BY_COMMAND))
        self.assertEqual(
            {'volume.create', 'snapshot.create', 'backup.create'},
            set(cinder_tasks.COLLECTIONS))
        self.assertEqual({'network.create', 'port.create', 'router.create',
                          'security_group.create', 'floating_ip.create'},
                         set(neutron_tasks.COLLECTIONS))
        self.assertEqual({'image.create', 'server_image.create'},
                         set(glance_tasks.OPERATIONS))
        self.assertEqual(
            [kind.operation for kind in registry.KINDS
             if kind.module == 'idemclient.kinds.load_balancer'],
            [load_balancer.OPERATION])
        for operation, prefix in STORED.items():
            self.assertEqual(prefix + '0' * 32,
                             token.id_tag(operation, '0' * 32))

    def test_every_kind_module_names_its_own_row(self):
        import importlib
        for kind in registry.KINDS:
            if not kind.command:
                continue
            module = importlib.import_module(kind.module)
            self.assertEqual(kind.operation, module.OPERATION, kind.module)

    def test_every_operation_has_a_family_observing_its_tasks(self):
        for kind in registry.KINDS:
            family = tasks.family(kind.operation)
            self.assertIsInstance(family, contract.Tasks, kind.operation)
        self.assertEqual(len(registry.task_modules()), len(tasks.families()))
        self.assertRaises(ValueError, tasks.family, 'widget.create')
