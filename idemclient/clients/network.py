"""The Neutron calls idemclient needs, one method per REST call."""

from idemclient.clients import base


class NetworkClient(base.ServiceClient):
    """Lists, shows and guarded creates over the SDK's network proxy (its
    endpoint ends in ``/v2.0``, so paths are relative to that)."""

    def listed(self, collection, params=None, keep=None):
        """Every page of ``GET /<collection>`` (``params`` are Neutron's
        exact-match filters and ``fields``), keeping what ``keep`` accepts.
        ``collection`` is the path (``security-groups``); the body's key
        is the same with ``_``."""
        key = collection.replace('-', '_')
        return self._listed('/' + collection, 'Cannot list %s'
                            % key.replace('_', ' '), key, params, keep)

    def get(self, collection, item_id):
        """One item, or None if it is gone."""
        key = collection.replace('-', '_')[:-1]
        return self._shown('/%s/%s' % (collection, item_id),
                           'Cannot show %s %s' % (key.replace('_', ' '),
                                                  item_id), key)
