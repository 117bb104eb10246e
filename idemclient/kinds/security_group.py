"""``openstack security group create --client-token``: Neutron security
groups."""

from idemclient.kinds import neutron

OPERATION = 'security_group.create'


class SecurityGroupKind(neutron.NeutronKind):
    operation = OPERATION
    noun = 'security group'
    collection = 'security-groups'
    sdk_class = 'openstack.network.v2.security_group:SecurityGroup'
    create_call = 'create_security_group'


install = SecurityGroupKind.install
