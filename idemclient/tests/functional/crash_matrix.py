"""The crash matrix every kind goes through: SIGKILL the command at every
failpoint (``idemclient.core.failpoints``) and after its create left (the
POST's answer held at a proxy), rerun, and count through the API: never a
duplicate, never a loss.

Each kill is checked to have happened where it claims: before anything was
sent the cloud holds nothing of the run, after the cloud acted it holds
exactly one item. Points before sending are deterministic (nothing reached
the cloud) and are killed at once per kind; points after it, where a
duplicate can happen, ``TRIALS`` times each. doc/source/development.rst
lists the points per kind.
"""

import json
import os
import signal

from idemclient.core import failpoints
from idemclient.tests.functional import proxy as proxy_mod

TRIALS_VAR = 'IDEMCLIENT_CRASH_TRIALS'


def trials(environ=os.environ):
    """How many times each point after sending is killed at: 1 or more,
    5 unless the environment says; anything else is an error, since 0
    would turn the matrix into tests that check nothing."""
    value = environ.get(TRIALS_VAR, '5')
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError('%s=%r: give a whole number of trials, 1 or more'
                         % (TRIALS_VAR, value))
    return count


TRIALS = trials()


class SetsAsSets:
    """Every kind: the same command under several hash seeds, its set
    options (``unordered_args``, two orders) swapped, then from another
    host: one item, printed by every run. OSC builds some sets with
    ``list(set(...))``, whose order is each process's own."""

    unordered_args = ((), ())
    unordered_env = {}  # what the kind's set options need (a microversion)
    another_host = True  # a keypair's private key stays on its host
    hosts_env = {}  # what every run of the kind's test case needs

    def test_sets_compare_as_sets_under_several_hash_seeds(self):
        self.before_trial()
        name, token = 'hs-%s' % self.uid, 'tok-hs-%s' % self.uid
        first, second = self.unordered_args
        runs = [('1', first, None), ('2', second, None)]
        if self.another_host:
            runs.append(('3', first, os.path.join(self.tmp, 'host2')))
        ids = []
        for seed, extra, journal in runs:
            env = dict(self.hosts_env, PYTHONHASHSEED=seed,
                       **self.unordered_env)
            made = self.osc(*(tuple(self.create_args(name, token)) + extra +
                              ('-f', 'json')), env=env, journal=journal)
            ids.append(json.loads(self.assertOK(made).stdout)['id'])
        self.assertEqual(1, len(set(ids)), ids)
        self.assertEqual(1, len(self.held(name)), self.held(name))


class CrashMatrix:
    """A mixin (every command's with ``SetsAsSets``); the test case gives
    ``collection``
    (the POST's path), ``create_args(name, token)``, ``make(name, token,
    env=...)``, ``held(name)`` (the ids of what the cloud holds for
    ``name``, whatever its state), ``assertCreatedOnce(name, token,
    item_id)``, ``proxy_upstream()`` and ``endpoint_via(proxy)``. A kind
    with points of its own after sending kills at them with
    ``kill_trials``."""

    collection = None
    reserves = True  # takes a reservation (not keypairs, not images)

    def before_trial(self):
        """What must be so before each trial (a source volume free)."""

    def start_create(self, name, token, env):
        """The create, started (a ``Popen`` in a session of its own)."""
        return self.start_osc(*self.create_args(name, token), env=env)

    def _kill_at(self, point, name, token):
        killed = self.make(name, token, env={'IDEMCLIENT_FAILPOINT': point})
        self.assertEqual(-signal.SIGKILL, killed.returncode,
                         '%s was never reached: %s' % (point, killed.stderr))
        held = self.held(name)
        if point in failpoints.BEFORE_SENDING:
            self.assertEqual([], held, 'something was sent before %s'
                             % point)
        else:
            self.assertEqual(1, len(held), 'the cloud did not act before %s:'
                             ' %s' % (point, held))
        item = json.loads(self.assertOK(self.make(name, token)).stdout)
        self.assertCreatedOnce(name, token, item['id'])

    def kill_trials(self, point, count=TRIALS):
        """Kill at ``point`` ``count`` times, each with its own token."""
        for trial in range(count):
            self.before_trial()
            self._kill_at(point, 'kc-%s-%s-%d' % (self.uid, point, trial),
                          'tok-%s-%s-%d' % (self.uid, point, trial))

    def test_kill_before_anything_is_sent(self):
        for point in failpoints.BEFORE_SENDING:
            if self.reserves or point not in failpoints.RESERVING_ONLY:
                self.kill_trials(point, 1)

    def test_kill_after_response_came(self):
        self.kill_trials('after-response')

    def test_kill_after_post_left(self):
        for trial in range(TRIALS):
            self.before_trial()
            name = 'kl-%s-%d' % (self.uid, trial)
            token = 'tok-%s-%d' % (self.uid, trial)
            with proxy_mod.Proxy(self.proxy_upstream()) as proxy:
                proxy.rule('POST', r'/%s$' % self.collection, 'hold')
                proc = self.start_create(name, token,
                                         self.endpoint_via(proxy))
                self.assertTrue(proxy.acted.wait(120), 'POST never left')
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            self.assertEqual(1, len(self.held(name)),
                             'the held create did not reach the cloud; it '
                             'was answered %s' % proxy.statuses(
                                 'POST', r'/%s$' % self.collection))
            item = json.loads(self.assertOK(self.make(name, token)).stdout)
            self.assertCreatedOnce(name, token, item['id'])


HOSTS = 8
# ``IDEMCLIENT_TEST_RESERVATIONS=off`` runs the race below without
# reservations, to see it fail: more than one create, more than one item.
RESERVATIONS = os.environ.get('IDEMCLIENT_TEST_RESERVATIONS', 'on')


class OneCreateAcrossHosts:
    """A mixin for the kinds that reserve, over the same test seams as
    ``CrashMatrix``: ``HOSTS`` hosts (each its own home and journal) run
    one token at the same moment, held at a barrier until all of them
    have journaled their attempt, so that they all reserve together. One
    create reaches the cloud (counted at a proxy), one item exists
    (counted through the API), and every host prints it."""

    def test_eight_hosts_at_once_send_one_create(self):
        self.before_trial()
        name, token = 'h8-%s' % self.uid, 'tok8-%s' % self.uid
        env = dict(self.barrier(HOSTS),
                   IDEMCLIENT_FAILPOINT='barrier-after-journal-commit',
                   IDEMCLIENT_RESERVATIONS=RESERVATIONS)
        path = r'/%s$' % self.collection
        with proxy_mod.Proxy(self.proxy_upstream()) as proxy:
            proxy.rule('POST', path, 'count')
            env.update(self.endpoint_via(proxy))
            procs = [self.start_osc(
                *(self.create_args(name, token) + ('-f', 'json')),
                env=self.host_env('h%d' % n, env)) for n in range(HOSTS)]
            printed = [json.loads(out) for out in self.outputs(procs)]
            posts = proxy.count('POST', path)
        held = self.held(name)  # first: each one is deleted at the end
        ids = sorted({item['id'] for item in printed})
        self.assertEqual(1, len(ids), ids)
        self.assertEqual(1, posts, 'creates sent by %d hosts' % HOSTS)
        self.assertEqual(ids, held)
