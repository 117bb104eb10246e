"""``openstack floating ip create --client-token``: Neutron floating IPs."""

from idemclient.kinds import neutron

OPERATION = 'floating_ip.create'


class FloatingIPKind(neutron.NeutronKind):
    operation = OPERATION
    noun = 'floating IP'
    collection = 'floatingips'
    sdk_class = 'openstack.network.v2.floating_ip:FloatingIP'
    create_call = 'create_ip'


install = FloatingIPKind.install
