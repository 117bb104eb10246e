"""What the clients of services without microversions share (Neutron's,
Glance's): one call, its error translated once."""

from idemclient.clients.errors import raise_for_status
from idemclient.clients.errors import sdk_error


class PlainClient:
    """Calls over an SDK proxy (a keystoneauth adapter), relative to its
    versioned endpoint."""

    def __init__(self, adapter):
        self.adapter = adapter

    def _call(self, method, url, what, **kwargs):
        try:
            response = self.adapter.request(url, method, raise_exc=False,
                                            **kwargs)
        except Exception as exc:
            raise sdk_error(exc)
        return raise_for_status(response, what)
