"""idemclient's own commands (the ``openstack.idem.v1`` entry points)."""
