"""The Glance calls idemclient needs, one method per REST call."""

from idemclient.clients.errors import ApiError
from idemclient.clients import once
from idemclient.clients import plain

PAGE_LIMIT = 1000
OCTETS = {'Content-Type': 'application/octet-stream'}


class ImageClient(plain.PlainClient):
    """Shows, property lookups, data uploads and guarded creates over the
    SDK's image proxy (its endpoint is the versioned ``/v2``)."""

    def get(self, image_id):
        """The image, or None: never made, deleted, or not visible."""
        try:
            return self._call('GET', '/images/%s' % image_id,
                              'Cannot show image %s' % image_id).json()
        except ApiError as exc:
            if exc.status_code == 404:
                return None
            raise

    def with_property(self, key, value):
        """Every visible image whose property ``key`` is ``value`` (Glance
        filters on the server), every page, oldest first."""
        params = {key: value, 'limit': PAGE_LIMIT,
                  'sort_key': 'created_at', 'sort_dir': 'asc'}
        found = []
        while True:
            page = self._call('GET', '/images', 'Cannot list images',
                              params=params).json().get('images', [])
            found.extend(page)
            if len(page) < PAGE_LIMIT:
                return found
            params['marker'] = page[-1]['id']

    def upload(self, image_id, data, size=None):
        """Put the image's data (``PUT /images/{id}/file``); Glance takes it
        only while the image is ``queued``, and answers 409 otherwise."""
        headers = dict(OCTETS)
        if size is not None:
            headers['Content-Length'] = str(size)
        self._call('PUT', '/images/%s/file' % image_id,
                   'Cannot upload the data of image %s' % image_id,
                   data=data, headers=headers)

    def stage_and_import(self, image_id, data, method='glance-direct'):
        """The interoperable import: stage the data, then import it."""
        self._call('PUT', '/images/%s/stage' % image_id,
                   'Cannot stage the data of image %s' % image_id,
                   data=data, headers=dict(OCTETS))
        self._call('POST', '/images/%s/import' % image_id,
                   'Cannot import the data of image %s' % image_id,
                   json={'method': {'name': method}})

    def guarded_create(self, create, request_id, client_token):
        return once.guarded_create(self.adapter, create, request_id,
                                   client_token)
