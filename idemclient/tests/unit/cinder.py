"""A Cinder for unit tests: requests-mock behind a real keystoneauth
session, answering its version document with the ``cloud_max`` a test
class sets."""

import testtools

from idemclient.tests.unit import shared

ROOT = 'http://cinder.example'
CINDER = ROOT + '/v3/proj'


def versions(max_version):
    """Cinder's version document, as GET / answers it."""
    return {'versions': [{
        'id': 'v3.0', 'status': 'CURRENT', 'version': max_version,
        'min_version': '3.0', 'updated': '2023-08-31T00:00:00Z',
        'links': [{'rel': 'self', 'href': ROOT + '/v3/'}]}]}


class CinderTestCase(testtools.TestCase):

    cloud_max = '3.71'

    def setUp(self):
        super().setUp()
        cinder = self.useFixture(shared.MockedService(CINDER,
                                                      'block-storage'))
        self.mock, self.adapter = cinder.mock, cinder.adapter
        for url in (ROOT, ROOT + '/', ROOT + '/v3', ROOT + '/v3/', CINDER,
                    CINDER + '/'):
            self.mock.get(url, json=versions(self.cloud_max))
