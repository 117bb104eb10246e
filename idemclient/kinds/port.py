"""``openstack port create --client-token``: Neutron ports.

The markers are tags in the create request where the cloud has the
``tag-ports-during-bulk-creation`` extension, else at the end of the
description (``kinds.neutron``)."""

from idemclient.core import registry
from idemclient.kinds import neutron

OPERATION = registry.BY_COMMAND['port create'].operation


class PortKind(neutron.NeutronKind):
    operation = OPERATION
    noun = 'port'
    collection = 'ports'
    sdk_class = 'openstack.network.v2.port:Port'
    create_call = 'create_port'
    tags_extension = 'tag-ports-during-bulk-creation'
    # OSC builds the tags with list(set(...)): their order changes from
    # one process to the next.
    unordered = ('tags', 'security_group_ids', 'allowed_address_pairs',
                 'extra_dhcp_opts')


install = PortKind.install
