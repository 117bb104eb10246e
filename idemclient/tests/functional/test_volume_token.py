"""``openstack volume create --client-token`` against the local real Cinder,
every outcome counted through the block storage API."""

import json
import os

from idemclient.tests.functional import base
from idemclient.tests.functional import crash_matrix
from idemclient.tests.functional import proxy as proxy_mod


class VolumeTestCase(base.FunctionalTestCase):

    def volume_api(self, method, path, user=None, **kwargs):
        sess = base.session_for(user or self.user)
        return sess.request(
            sess.get_endpoint(service_type='block-storage',
                              interface='public') + path, method,
            raise_exc=False, headers={'OpenStack-API-Version': 'volume 3.0'},
            **kwargs)

    def volumes_named(self, name, user=None):
        """The user's project's volumes with this name; deleted at the end
        (once they are no longer creating). Matched here: the local Cinder
        lets members filter on nothing."""
        found = [v for v in self.volume_api(
            'GET', '/volumes/detail', user).json()['volumes']
            if v['name'] == name]
        for volume in found:
            self.addCleanup(self._delete, volume['id'], user)
        return found

    def _delete(self, volume_id, user):
        def settled():
            body = self.volume_api('GET', '/volumes/' + volume_id, user)
            return body.status_code == 404 or body.json()['volume'][
                'status'] not in ('creating', 'downloading')
        self.wait_for(settled, timeout=60, what='volume %s' % volume_id)
        self.volume_api('DELETE', '/volumes/' + volume_id, user)

    def create(self, name, token, *extra, user=None, journal=None,
               env=None, fmt='json'):
        return self.osc('volume', 'create', '--size', '1', '--client-token',
                        token, *(extra + (name, '-f', fmt)), user=user,
                        journal=journal, env=env)

    def endpoint_via(self, proxy):
        path = base.session_for(self.user).get_endpoint(
            service_type='block-storage', interface='public').split(
                '://', 1)[1].split('/', 1)[1]
        return {'OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE': proxy.url('/' + path)}

    def upstream(self):
        endpoint = base.session_for('admin').get_endpoint(
            service_type='block-storage', interface='public')
        return endpoint.split('/v3')[0]

    def assertOneVolume(self, name, volume_id, user=None):
        self.assertEqual([volume_id], [v['id'] for v in self.volumes_named(
            name, user)], 'duplicate or lost volume for %s' % name)


class TestVolumeToken(VolumeTestCase):

    def test_retries_print_one_volume_in_every_format(self):
        name, token = 'vol-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.create(name, token)).stdout)
        again = self.assertOK(self.create(name, token, fmt='value'))
        self.assertIn('no create was sent', again.stderr)
        self.assertIn(first['id'], again.stdout)
        yaml_run = self.assertOK(self.create(name, token, fmt='yaml'))
        self.assertIn('id: %s' % first['id'], yaml_run.stdout)
        self.assertOneVolume(name, first['id'])
        [volume] = self.volumes_named(name)
        self.assertIn('idemclient:marker', volume['metadata'])
        [entry] = self.journal_entries()
        self.assertEqual(('done', [first['id']]), (
            entry['state'], json.loads(entry['resource_ids'])))

    def test_other_parameters_are_refused_naming_them(self):
        name, token = 'volm-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.create(name, token)).stdout)
        other = self.osc('volume', 'create', '--size', '2', '--client-token',
                         token, name, journal=os.path.join(self.tmp, 'h2'))
        self.assertEqual(1, other.returncode, other.stdout)
        self.assertIn('different: size', other.stderr)
        self.assertIn('on the cloud', other.stderr)
        self.assertOneVolume(name, first['id'])

    def test_another_host_finds_it_another_project_does_not(self):
        name, token = 'volh-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.create(
            name, token, user='demo')).stdout)
        elsewhere = json.loads(self.assertOK(self.create(
            name, token, user='demo',
            journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertEqual(first['id'], elsewhere['id'])
        other = json.loads(self.assertOK(self.create(
            name, token, user='demo2')).stdout)
        self.assertNotEqual(first['id'], other['id'])
        self.assertOneVolume(name, first['id'], user='demo')
        self.assertOneVolume(name, other['id'], user='demo2')

    def test_bad_token_sends_nothing(self):
        name = 'volb-' + self.uid
        result = self.osc('volume', 'create', '--size', '1',
                          '--client-token', 'x' * 65, name)
        self.assertEqual(1, result.returncode)
        self.assertIn('Nothing was sent.', result.stderr)
        self.assertEqual([], self.volumes_named(name))

    def test_task_show_by_tag_from_another_host(self):
        name, tag = 'volt-' + self.uid, 'vt-' + self.uid
        first = json.loads(self.assertOK(self.osc(
            'volume', 'create', '--size', '1', '--task-tag', tag, name,
            '-f', 'json')).stdout)
        [entry] = self.journal_entries()
        self.addCleanup(self.volumes_named, name)

        def shown():
            result = self.assertOK(self.osc(
                'task', 'show', '--tag', tag, '-f', 'json',
                journal=os.path.join(self.tmp, 'h2')))
            fields = json.loads(result.stdout)
            return fields if fields['state'] == 'succeeded' else None
        fields = self.wait_for(shown, timeout=60, interval=1,
                               what='the volume to become available')
        self.assertEqual((entry['uuid'], 'volume.create', first['id']),
                         (fields['uuid'], fields['task'],
                          fields['resource']))


class CinderKindTests(crash_matrix.CrashMatrix, crash_matrix.SetsAsSets,
                      crash_matrix.OneCreateAcrossHosts):
    """A kind made from a source volume; subclasses say which (a mixin, so
    that it is not collected as a test case of its own); the crash matrix
    too."""

    collection = None  # REST collection: 'volumes', 'snapshots', 'backups'
    needs_source = True  # made from a volume

    def setUp(self):
        super().setUp()
        if not self.needs_source:
            return
        self.source = 'src-' + self.uid
        created = self.volume_api('POST', '/volumes', json={
            'volume': {'size': 1, 'name': self.source}}).json()['volume']
        self.addCleanup(self._delete, created['id'], self.user)
        self.source_id = created['id']
        self.wait_available('volumes', created['id'])

    def wait_available(self, collection, item_id):
        def available():
            body = self.volume_api('GET', '/%s/%s' % (collection, item_id))
            return body.json()[collection[:-1]]['status'] == 'available'
        self.wait_for(available, timeout=120, interval=0.5,
                      what='%s %s' % (collection[:-1], item_id))

    def items_named(self, name):
        found = self.volume_api('GET', '/%s/detail' % self.collection
                                ).json()[self.collection]
        found = [item for item in found if item['name'] == name]
        for item in found:
            self.addCleanup(self._delete_item, item['id'])
        return found

    def _delete_item(self, item_id):
        path = '/%s/%s' % (self.collection, item_id)

        def settled():
            body = self.volume_api('GET', path)
            return body.status_code == 404 or body.json()[
                self.collection[:-1]]['status'] not in ('creating',)
        self.wait_for(settled, timeout=120, what=path)
        self.volume_api('DELETE', path)
        self.wait_for(lambda: self.volume_api('GET', path).status_code ==
                      404, timeout=120, what='%s to go' % path)

    def make(self, name, token, journal=None, env=None, fmt='json'):
        return self.osc(*(self.create_args(name, token) + ('-f', fmt)),
                        journal=journal, env=env)

    def assertOneItem(self, name, item_id):
        self.assertEqual([item_id], [i['id'] for i in self.items_named(
            name)], 'duplicate or lost %s for %s' % (self.collection, name))

    def test_retries_and_another_host_print_one(self):
        name, token = 'k-' + self.uid, 'tok-' + self.uid
        first = json.loads(self.assertOK(self.make(name, token)).stdout)
        again = self.assertOK(self.make(name, token, fmt='value'))
        self.assertIn('no create was sent', again.stderr)
        elsewhere = json.loads(self.assertOK(self.make(
            name, token, journal=os.path.join(self.tmp, 'h2'))).stdout)
        self.assertEqual((first['id'], 'created', 'existed'),
                         (elsewhere['id'], first['idemclient_outcome'],
                          elsewhere['idemclient_outcome']))
        self.assertOneItem(name, first['id'])

    def assertCreatedOnce(self, name, token, item_id):
        self.assertOneItem(name, item_id)

    def held(self, name):
        return [i['id'] for i in self.items_named(name)]

    def proxy_upstream(self):
        return self.upstream()


class TestVolumeCrash(CinderKindTests, VolumeTestCase):

    collection = 'volumes'
    unordered_args = (('--property', 'a=1', '--property', 'b=2'),
                      ('--property', 'b=2', '--property', 'a=1'))
    needs_source = False

    def create_args(self, name, token):
        return ('volume', 'create', '--size', '1', '--client-token', token,
                name)

    def test_eight_processes_one_post(self):
        name, token = 'vol8-' + self.uid, 'tok-' + self.uid
        with proxy_mod.Proxy(self.upstream()) as proxy:
            outputs = self.queued(
                8, proxy, 'POST', r'/volumes$', 'volume', 'create', '--size',
                '1', '--client-token', token, name, '-f', 'value', '-c', 'id',
                env=self.endpoint_via(proxy))
            posts = proxy.count('POST', r'/volumes$')
        self.assertEqual(1, posts)
        self.assertEqual(1, len(set(outputs)), outputs)
        self.assertOneVolume(name, outputs[0])


class TestVolumeCrashAsMember(TestVolumeCrash):
    """The same as a project member, whom the local Cinder (as a Cinder
    without ``resource_query_filters_file``) lets filter on nothing: the
    marker is found among the project's volumes."""

    user = 'demo'
