"""The Glance calls idemclient needs, one method per REST call."""

from idemclient.clients import base
from idemclient.core import converge

OCTETS = {'Content-Type': 'application/octet-stream'}
JSON_PATCH = {'Content-Type': 'application/openstack-images-v2.1-json-patch'}


class ImageClient(base.ServiceClient):
    """Shows, property lookups, data uploads and guarded creates over the
    SDK's image proxy (its endpoint is the versioned ``/v2``)."""

    def get(self, image_id):
        """The image, or None: never made, deleted, or not visible."""
        return self._shown('/images/%s' % image_id,
                           'Cannot show image %s' % image_id)

    def get_dated(self, image_id):
        """(the image or None, Glance's clock: its ``Date`` in epoch
        seconds, or None): how old a reservation is, on Glance's clock."""
        response = self._shown_response('/images/%s' % image_id,
                                        'Cannot show image %s' % image_id)
        if response is None:
            return None, None
        return response.json(), converge.http_date(
            response.headers.get('Date'))

    def with_property(self, key, value, hidden=False):
        """Every visible image whose property ``key`` is ``value`` (Glance
        filters on the server), every page, oldest first; only hidden
        ones if ``hidden`` (Glance lists those only when asked)."""
        params = {key: value, 'sort_key': 'created_at', 'sort_dir': 'asc'}
        if hidden:
            params['os_hidden'] = 'true'
        return self._listed('/images', 'Cannot list images', 'images',
                            params)

    @staticmethod
    def _has_next(body, key):
        return True  # Glance's last page is the short one

    def create(self, body):
        """``POST /images`` as given (an explicit ``id`` included): the new
        image; a second create with that id is Glance's 409."""
        return self._call('POST', '/images', 'Cannot create image %s'
                          % body.get('id', ''), json=body).json()

    def set_property(self, image_id, key, value):
        """Add or replace one property (JSON patch: Glance has no
        conditional update, so only the image's holder writes to it)."""
        return self._call(
            'PATCH', '/images/%s' % image_id,
            'Cannot update image %s' % image_id,
            json=_patch(key, value), headers=JSON_PATCH).json()

    def set_property_later(self, image_id, key, value):
        """``set_property`` as a call another process sends
        (``later``: imported here, not with this module, which every
        ``openstack`` run loads through ``task show``'s)."""
        from idemclient.clients import later
        return later.call(self.adapter, 'PATCH', '/images/%s' % image_id,
                          _patch(key, value), JSON_PATCH)

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


def _patch(key, value):
    return [{'op': 'add', 'path': '/' + key, 'value': value}]
