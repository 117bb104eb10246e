"""The Octavia calls idemclient needs, one method per REST call.

octaviaclient's own API class (``client_manager.load_balancer``) returns
bodies only, and raises ``OctaviaClientException`` (not osc-lib's nor the
SDK's error): the create is sent here instead, over the same keystoneauth
session and endpoint, so that its one POST is guarded and its answer
(the cloud's request id, the status) read the way every service's is.
"""

import re

from idemclient.clients import base

COLLECTION = 'loadbalancers'
_PATH = '/lbaas/'


def endpoint_of(url):
    """Octavia's catalog URL with the ``/v2.0`` octaviaclient adds (the
    catalog entry has no version in its path)."""
    url = url.rstrip('/')
    return url if re.search(r'/v2(\.0)?$', url) else url + '/v2.0'


class LoadBalancerClient(base.ServiceClient):
    """Lists, shows, deletes and the guarded create, relative to
    ``/v2.0``; ``collection`` is the path under ``/lbaas/``."""

    def listed(self, collection, params=None, keep=None):
        """Every page of ``GET /lbaas/<collection>``: Octavia filters on
        ``tags`` (every one given), ``project_id``, ``name``..."""
        return self._listed(_PATH + collection, 'Cannot list load '
                            'balancers', collection, params, keep)

    def get(self, collection, item_id):
        """One item, or None if it is gone."""
        return self._shown('%s%s/%s' % (_PATH, collection, item_id),
                           'Cannot show load balancer %s' % item_id,
                           collection[:-1])

    def delete(self, collection, item_id):
        """Delete it and what hangs on it (``cascade``); one already gone
        is not an error. Octavia refuses (409) while it is pending."""
        try:
            self._call('DELETE', '%s%s/%s' % (_PATH, collection, item_id),
                       'Cannot delete load balancer %s' % item_id,
                       params={'cascade': 'true'})
        except base.ApiError as exc:
            if exc.status_code != 404:
                raise

    def create(self, collection, body, request_id, client_token):
        """The one ``POST``, guarded as every create's (``once``).
        Returns (its body, its response)."""
        def post():
            return base.raise_for_status(self.adapter.post(
                _PATH + collection, json=body, raise_exc=False,
                headers={'Accept': 'application/json'}),
                'Cannot create load balancer')
        try:
            response, _ = self.guarded_create(post, request_id,
                                              client_token)
        except base.ApiError:
            raise
        except Exception as exc:  # keystoneauth: no answer
            raise base.sdk_error(exc)
        return response.json(), response
