"""``volume snapshot create`` and ``volume backup create`` with a client
token against the local real Cinder: retries, another host, a crash at
every step and a lost response (``test_volume_token.CinderKindTests``);
every outcome counted through the API."""

from idemclient.tests.functional import test_volume_token


class TestSnapshotToken(test_volume_token.CinderKindTests,
                        test_volume_token.VolumeTestCase):

    collection = 'snapshots'

    def create_args(self, name, token):
        return ('volume', 'snapshot', 'create', '--volume', self.source_id,
                '--client-token', token, name)


class TestBackupToken(test_volume_token.CinderKindTests,
                      test_volume_token.VolumeTestCase):

    collection = 'backups'

    def create_args(self, name, token):
        return ('volume', 'backup', 'create', '--name', name,
                '--client-token', token, self.source_id)

    def before_trial(self):
        self.wait_available('volumes', self.source_id)
