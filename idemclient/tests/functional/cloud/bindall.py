"""An ML2 mechanism driver that binds every port at once, for a Neutron
with no agents: Nova's boots then get ports that are bound and ``ACTIVE``
(without it a port stays unbound and Nova's build fails "Binding failed
for port"). Declared to ML2 (which loads drivers by entry-point name only)
by the ``idemclient_bindall`` distribution beside this file, found on the
services' PYTHONPATH. See shared/docs/nova-on-neutron.md."""

from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class BindAllDriver(api.MechanismDriver):
    """Bind a normal port to its first flat or vlan segment, as Open
    vSwitch (the vif type Nova's own Neutron fixture uses)."""

    def initialize(self):
        pass

    @property
    def connectivity(self):
        # Ports without a fixed IP are only bound by l2 drivers.
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        vnic_type = context.current.get(portbindings.VNIC_TYPE,
                                        portbindings.VNIC_NORMAL)
        if vnic_type != portbindings.VNIC_NORMAL:
            return
        for segment in context.segments_to_bind:
            if segment[api.NETWORK_TYPE] in (constants.TYPE_FLAT,
                                             constants.TYPE_VLAN):
                context.set_binding(
                    segment[api.ID], portbindings.VIF_TYPE_OVS,
                    {portbindings.CAP_PORT_FILTER: True,
                     'connectivity': portbindings.CONNECTIVITY_L2},
                    status=constants.PORT_STATUS_ACTIVE)
                return
