"""Reservations against the real Glance (``idemclient.reservations``): a
holder that dies or is paused past its lease, what the reservation is on
Glance (hidden, the outcome on it), a project whose Glance policy refuses
image creates (the fallback), and ``task prune``. Volumes stand for Cinder
and Nova's kinds (``OneCreateAcrossHosts`` races each kind);
``test_network_token`` takes networks over the same way for Neutron's,
which are found by their description instead.
"""

import json
import os
import signal

from idemclient import reservations
from idemclient.tests.functional import base
from idemclient.tests.functional import proxy as proxy_mod
from idemclient.tests.functional import test_cross_host
from idemclient.tests.functional import test_volume_token

LEASE = '3'  # seconds: a short lease, so a takeover comes quickly


class TestReservations(test_volume_token.VolumeTestCase):

    def image_api(self, method, path, user='admin', **kwargs):
        endpoint = base.session_for(user).get_endpoint(
            service_type='image', interface='public').rstrip('/')
        return base.session_for(user).request(
            endpoint + '/v2' + path, method, raise_exc=False, **kwargs)

    def run_volume(self, name, token, host, env=None, fmt='json'):
        return self.osc('volume', 'create', '--size', '1', '--client-token',
                        token, name, '-f', fmt,
                        env=self.host_env(host, dict(
                            {'IDEMCLIENT_RESERVATION_LEASE': LEASE},
                            **(env or {}))))

    def reservation_of(self, host):
        """The reservation id the host's journal says it holds."""
        journal = os.path.join(self.tmp, 'host-' + host, 'journal.sqlite')
        [entry] = self.journal_entries(journal)
        return entry['reservation']

    def test_a_holder_killed_after_reserving_is_taken_over(self):
        name, token = 'rk-' + self.uid, 'tok-' + self.uid
        killed = self.run_volume(name, token, 'a', {
            'IDEMCLIENT_FAILPOINT': 'after-reserve'})
        self.assertEqual(-signal.SIGKILL, killed.returncode, killed.stderr)
        self.assertEqual([], self.volumes_named(name))
        other = self.assertOK(self.run_volume(name, token, 'b'))
        self.assertIn('made nothing in 3s: taking over', other.stderr)
        made = json.loads(other.stdout)
        again = self.assertOK(self.run_volume(name, token, 'a'))
        self.assertEqual(made['id'], json.loads(again.stdout)['id'])
        self.assertOneVolume(name, made['id'])

    def test_a_holder_paused_past_its_lease_leaves_one(self):
        """Stopped after its lookup, before its create: the lease runs
        out, another host takes over and creates; resumed, the holder
        creates too (two creates: the only path that sends two), sees it
        was taken over, deletes its own and prints the taker's."""
        name, token = 'rp-' + self.uid, 'tok-' + self.uid
        with proxy_mod.Proxy(self.upstream()) as proxy:
            proxy.rule('POST', r'/volumes$', 'count')
            via = self.endpoint_via(proxy)
            holder = self.start_osc(
                'volume', 'create', '--size', '1', '--client-token', token,
                name, '-f', 'json', env=self.host_env('a', dict(
                    via, IDEMCLIENT_RESERVATION_LEASE=LEASE,
                    IDEMCLIENT_FAILPOINT='stop-after-lookup')))
            self.wait_for(lambda: test_cross_host._stopped(holder.pid),
                          timeout=120, what='the holder to stop')
            other = self.assertOK(self.run_volume(name, token, 'b', via))
            self.assertIn('taking over', other.stderr)
            os.kill(holder.pid, signal.SIGCONT)
            out, err = holder.communicate(timeout=300)
            self.assertEqual(0, holder.returncode, err)
            self.assertEqual(2, proxy.count('POST', r'/volumes$'))
        taker = json.loads(other.stdout)['id']
        self.assertEqual(taker, json.loads(out)['id'])
        self.assertIn('a run that took over', err)
        self.wait_for(lambda: len(self.volume_api(
            'GET', '/volumes/detail', params={'name': name}).json()[
                'volumes']) == 1, timeout=120, what='the loser to go')
        self.assertOneVolume(name, taker)

    def test_the_reservation_is_hidden_and_holds_the_outcome(self):
        name, token = 'rh-' + self.uid, 'tok-' + self.uid
        made = json.loads(self.assertOK(self.run_volume(
            name, token, 'a')).stdout)
        self.addCleanup(self.volumes_named, name)
        rid = self.reservation_of('a')
        body = self.image_api('GET', '/images/' + rid).json()
        self.assertEqual(
            (reservations.NAME, 'private', True, 'volume.create',
             [made['id']]),
            (body['name'], body['visibility'], body['os_hidden'],
             body[reservations.OPERATION_KEY],
             json.loads(body[reservations.RESOURCES_KEY])))
        listed = json.loads(self.assertOK(self.osc(
            'image', 'list', '-f', 'json')).stdout)
        self.assertNotIn(rid, [image['ID'] for image in listed])
        hidden = json.loads(self.assertOK(self.osc(
            'image', 'list', '--hidden', '-f', 'json')).stdout)
        self.assertIn(rid, [image['ID'] for image in hidden])
        # Another host learns the outcome from it: no create is sent.
        with proxy_mod.Proxy(self.upstream()) as proxy:
            proxy.rule('POST', r'/volumes$', 'count')
            again = self.assertOK(self.run_volume(
                name, token, 'b', self.endpoint_via(proxy)))
            self.assertEqual(0, proxy.count('POST', r'/volumes$'))
        self.assertEqual(made['id'], json.loads(again.stdout)['id'])

    def test_prune_deletes_the_reservations_of_what_it_prunes(self):
        name, token = 'rr-' + self.uid, 'tok-' + self.uid
        made = json.loads(self.assertOK(self.run_volume(
            name, token, 'a')).stdout)
        self.addCleanup(self.volumes_named, name)
        rid = self.reservation_of('a')
        env = self.host_env('a')
        pruned = self.assertOK(self.osc('task', 'prune', '--older-than',
                                        '0s', env=env))
        self.assertIn('Removed 1 finished task', pruned.stdout)
        self.assertEqual(404, self.image_api('GET', '/images/' + rid)
                         .status_code)
        # The token stays bound: its resource is still found and shown.
        again = self.assertOK(self.run_volume(name, token, 'c'))
        self.assertEqual(made['id'], json.loads(again.stdout)['id'])

    def test_where_glance_refuses_image_creates_one_line_and_the_old_way(
            self):
        """The ``noimg`` project's role may not create images (the local
        Glance's policy): the create goes on as without reservations, and
        one line says what that risks."""
        name, token = 'rf-' + self.uid, 'tok-' + self.uid
        result = self.osc('volume', 'create', '--size', '1',
                          '--client-token', token, name, '-f', 'json',
                          user='noimg')
        self.assertOK(result)
        made = json.loads(result.stdout)
        self.assertEqual(1, len(result.stderr.splitlines()), result.stderr)
        self.assertTrue(result.stderr.startswith(
            'Reservations are unavailable on this cloud (the image service '
            'answered HTTP 403'), result.stderr)
        self.assertIn('may make two volumes until reservations are allowed',
                      result.stderr)
        again = self.assertOK(self.osc(
            'volume', 'create', '--size', '1', '--client-token', token,
            name, '-f', 'json', user='noimg',
            journal=os.path.join(self.tmp, 'other.sqlite')))
        self.assertEqual(made['id'], json.loads(again.stdout)['id'])
        self.assertOneVolume(name, made['id'], user='noimg')

    def test_task_show_of_a_tag_from_another_host_reads_its_slot(self):
        """Another host learns a tagged task from the tag's slot (a GET,
        and one past it) and its resource (a GET): 3 requests besides
        Keystone's, whatever the project holds."""
        tag = 'rt-' + self.uid
        made = json.loads(self.assertOK(self.osc(
            'network', 'create', '--task-tag', tag, 'rt-' + self.uid,
            '-f', 'json', env=self.host_env('a'))).stdout)
        self.addCleanup(self.network_delete, made['id'])
        [entry] = self.journal_entries(
            os.path.join(self.tmp, 'host-a', 'journal.sqlite'))
        result = self.assertOK(self.osc(
            '--debug', 'task', 'show', '--tag', tag, '-f', 'json',
            env=self.host_env('b')))
        shown = json.loads(result.stdout)
        self.assertEqual(
            (entry['uuid'], 'network.create', 'succeeded', made['id']),
            (shown['uuid'], shown['task'], shown['state'],
             shown['resource']))
        identity = base.AUTH_URL.split('/v3')[0]
        sent = [line.split(' -H ')[0] for line in result.stderr.splitlines()
                if line.startswith('REQ: curl') and identity not in line]
        self.assertLessEqual(len(sent), 3, sent)

    def network_delete(self, network_id):
        session = base.session_for('admin')
        endpoint = session.get_endpoint(service_type='network',
                                        interface='public').rstrip('/')
        session.delete(endpoint + '/v2.0/networks/' + network_id,
                       raise_exc=False)
