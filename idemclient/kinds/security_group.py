"""``openstack security group create --client-token``: Neutron security
groups."""

from idemclient.core import registry
from idemclient.kinds import neutron

OPERATION = registry.BY_COMMAND['security group create'].operation


class SecurityGroupKind(neutron.NeutronKind):
    operation = OPERATION
    noun = 'security group'
    collection = 'security-groups'
    sdk_class = 'openstack.network.v2.security_group:SecurityGroup'
    create_call = 'create_security_group'


install = SecurityGroupKind.install
