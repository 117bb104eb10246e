"""The Neutron calls idemclient needs, one method per REST call."""

from idemclient.clients.errors import ApiError
from idemclient.clients import once
from idemclient.clients import plain

PAGE_LIMIT = 1000


class NetworkClient(plain.PlainClient):
    """Lists, shows and guarded creates over the SDK's network proxy (its
    endpoint ends in ``/v2.0``, so paths are relative to that)."""

    def listed(self, collection, params=None, keep=None):
        """Every page of ``GET /<collection>`` (``params`` are Neutron's
        exact-match filters and ``fields``), keeping what ``keep`` accepts.
        ``collection`` is the path (``security-groups``); the body's key
        is the same with ``_``."""
        key = collection.replace('-', '_')
        params = dict(params or {}, limit=PAGE_LIMIT)
        found = []
        while True:
            body = self._call('GET', '/' + collection,
                              'Cannot list %s' % key.replace('_', ' '),
                              params=params).json()
            page = body.get(key, [])
            found.extend(item for item in page if keep is None or keep(item))
            following = [link for link in body.get(key + '_links') or ()
                         if link.get('rel') == 'next']
            if len(page) < PAGE_LIMIT or not following or not page:
                return found
            params['marker'] = page[-1]['id']

    def get(self, collection, item_id):
        """One item, or None if it is gone."""
        key = collection.replace('-', '_')[:-1]
        try:
            return self._call('GET', '/%s/%s' % (collection, item_id),
                              'Cannot show %s %s' % (
                                  key.replace('_', ' '), item_id)).json()[key]
        except ApiError as exc:
            if exc.status_code == 404:
                return None
            raise

    def guarded_create(self, create, request_id, client_token):
        return once.guarded_create(self.adapter, create, request_id,
                                   client_token)
