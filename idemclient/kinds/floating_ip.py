"""``openstack floating ip create --client-token``: Neutron floating IPs."""

from idemclient.core import registry
from idemclient.kinds import neutron

OPERATION = registry.BY_COMMAND['floating ip create'].operation


class FloatingIPKind(neutron.NeutronKind):
    operation = OPERATION
    noun = 'floating IP'
    collection = 'floatingips'
    sdk_class = 'openstack.network.v2.floating_ip:FloatingIP'
    create_call = 'create_ip'


install = FloatingIPKind.install
