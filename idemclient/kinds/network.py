"""``openstack network create --client-token``: Neutron networks."""

from idemclient.core import registry
from idemclient.kinds import neutron

OPERATION = registry.BY_COMMAND['network create'].operation


class NetworkKind(neutron.NeutronKind):
    operation = OPERATION
    noun = 'network'
    collection = 'networks'
    sdk_class = 'openstack.network.v2.network:Network'
    create_call = 'create_network'
    unordered = ('availability_zone_hints',)
    # Neutron 29 answers a create with is_default (false), a show without.
    create_only_fields = ('is_default',)


install = NetworkKind.install
