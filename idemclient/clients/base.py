"""What every service client shares, once: a call over the SDK proxy (a
keystoneauth adapter OSC already holds: its session, token and endpoint)
with its error translated (``errors``), a show that reads a 404 as "gone",
every page of a listing, the one guarded POST of a create, and the
microversion calls are sent at."""

from idemclient.clients.errors import ApiError
from idemclient.clients.errors import raise_for_status
from idemclient.clients.errors import sdk_error
from idemclient.clients import once

_OWN = object()  # a call's microversion: the client's own (``microversion``)


class ServiceClient:
    """One service's calls, relative to its versioned endpoint."""

    # Items per page asked for; a shorter page is the last.
    PAGE_LIMIT = 1000

    def __init__(self, adapter):
        self.adapter = adapter

    def microversion(self):
        """The version every call is sent at unless it names its own; None
        (no header) for a service without microversions."""
        return None

    def _call(self, method, url, what, microversion=_OWN, **kwargs):
        """The response; an ``ApiError`` saying ``what`` failed, with the
        cloud's own message, for an error or no answer at all."""
        if microversion is _OWN:
            microversion = self.microversion()
        try:
            response = self.adapter.request(url, method,
                                            microversion=microversion,
                                            raise_exc=False, **kwargs)
        except Exception as exc:  # keystoneauth: no answer
            raise sdk_error(exc)
        return raise_for_status(response, what)

    def _shown(self, url, what, key=None, **kwargs):
        """``GET url``'s body (its ``key``), or None if it is gone (404)."""
        response = self._shown_response(url, what, **kwargs)
        if response is None:
            return None
        body = response.json()
        return body[key] if key else body

    def _shown_response(self, url, what, **kwargs):
        """``GET url``'s response, or None if it is gone (404)."""
        try:
            return self._call('GET', url, what, **kwargs)
        except ApiError as exc:
            if exc.status_code == 404:
                return None
            raise

    def _pages(self, url, what, key, params=None, marker_of=None,
               **kwargs):
        """(response, items) for every page of ``GET url``: the items under
        ``key``, paged with ``limit`` and ``marker`` (the last item's id,
        or ``marker_of(item)``) until a page is short or says no more."""
        params = dict(params or {}, limit=self.PAGE_LIMIT)
        while True:
            response = self._call('GET', url, what, params=params, **kwargs)
            body = response.json()
            page = body.get(key, [])
            yield response, page
            if len(page) < self.PAGE_LIMIT or not page or \
                    not self._has_next(body, key):
                return
            params['marker'] = (marker_of or _id)(page[-1])

    def _listed(self, url, what, key, params=None, keep=None, **kwargs):
        """Every page's items that ``keep`` accepts (all if None)."""
        return [item for _, page in self._pages(url, what, key, params,
                                                **kwargs)
                for item in page if keep is None or keep(item)]

    @staticmethod
    def _has_next(body, key):
        """Whether a full page says another follows (a ``next`` link)."""
        return any(link.get('rel') == 'next'
                   for link in body.get(key + '_links') or ())

    def delete(self, collection, item_id):
        """``DELETE /<collection>/<id>``; one already gone is not an
        error."""
        try:
            self._call('DELETE', '/%s/%s' % (collection, item_id),
                       'Cannot delete %s' % item_id)
        except ApiError as exc:
            if exc.status_code != 404:
                raise

    def guarded_create(self, create, request_id, client_token):
        """Run an SDK create call with its one POST guarded (``once``)."""
        return once.guarded_create(self.adapter, create, request_id,
                                   client_token)


def _id(item):
    return item['id']


def version(text):
    """A microversion ('2.26') as a tuple that compares as numbers."""
    return tuple(int(part) for part in text.split('.'))
