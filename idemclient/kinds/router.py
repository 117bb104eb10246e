"""``openstack router create --client-token``: Neutron routers."""

from idemclient.core import registry
from idemclient.kinds import neutron

OPERATION = registry.BY_COMMAND['router create'].operation


class RouterKind(neutron.NeutronKind):
    operation = OPERATION
    noun = 'router'
    collection = 'routers'
    sdk_class = 'openstack.network.v2.router:Router'
    create_call = 'create_router'
    unordered = ('availability_zone_hints',)


install = RouterKind.install
