#!/usr/bin/env python3
"""The point of idemclient, shown on the local real cloud.

A ``server create --client-token`` is killed mid-request (its response held
by a loopback proxy after Nova acted), retried twice, and ``server list``
shows one server. The same crash without a token, retried, makes two. Then
the same for a load balancer (python-octaviaclient's ``loadbalancer
create``, on the local real Octavia).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from idemclient.tests.functional import base  # noqa: E402
from idemclient.tests.functional import proxy as proxy_mod  # noqa: E402

USER = 'demo'
JOURNAL = os.path.join(tempfile.mkdtemp(prefix='idem-demo-'),
                       'journal.sqlite')
ENV = base.osc_env(USER, JOURNAL)


def show(args, env=ENV):
    print('\n$ openstack %s' % ' '.join(args), flush=True)
    result = subprocess.run([base.OPENSTACK] + args, env=env, text=True,
                            capture_output=True)
    sys.stdout.write(result.stdout)
    sys.stdout.write(''.join('  (stderr) %s\n' % line
                             for line in result.stderr.splitlines()))
    return result


# service -> (the create's path, the endpoint override, the proxy's path)
SERVICES = {'Nova': ('compute', r'/servers$', 'OS_COMPUTE_ENDPOINT_OVERRIDE',
                     '/v2.1'),
            'Octavia': ('load-balancer', r'/lbaas/loadbalancers$',
                        'OS_LOAD_BALANCER_ENDPOINT_OVERRIDE', '/')}


def crash_mid_request(args, service='Nova'):
    """Run ``openstack args`` through a proxy that holds the create's
    response; SIGKILL the client once the service has acted."""
    service_type, path, override, suffix = SERVICES[service]
    endpoint = base.session_for(USER).get_endpoint(
        service_type=service_type, interface='public')
    with proxy_mod.Proxy(endpoint) as proxy:
        proxy.rule('POST', path, 'hold')
        env = dict(ENV, **{override: proxy.url(suffix)})
        print('\n$ openstack %s' % ' '.join(args), flush=True)
        proc = subprocess.Popen([base.OPENSTACK] + args, env=env,
                                start_new_session=True,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        if not proxy.acted.wait(120):
            raise SystemExit('the create never reached %s' % service)
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        print('  ... %s accepted the create, the response never came '
              'back, and the client was killed (SIGKILL).' % service)


def main():
    uid = uuid.uuid4().hex[:6]
    name, token = 'demo-web-' + uid, 'demo-' + uid
    create = ['server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros',
              '--network', 'private']
    print('== With a client token (journal: %s)' % JOURNAL)
    crash_mid_request(create + ['--client-token', token, '--task-tag',
                                token, name])
    show(['task', 'show', '--tag', token, '-c', 'state', '-c', 'resource'])
    first = show(create + ['--client-token', token, '--task-tag', token,
                           name, '-f', 'value', '-c', 'id', '-c', 'name'])
    second = show(create + ['--client-token', token, '--task-tag', token,
                            '--wait', name,
                            '-f', 'value', '-c', 'id', '-c', 'status'])
    listing = show(['server', 'list', '--name', '^%s$' % name,
                    '-c', 'ID', '-c', 'Name', '-c', 'Status'])
    ours = first.stdout.split()[:1] == second.stdout.split()[:1] and \
        listing.stdout.count(name) == 1

    print('\n== The same crash and retry without a token')
    plain = 'demo-plain-' + uid
    crash_mid_request(create + [plain])
    show(create + [plain, '-f', 'value', '-c', 'id'])
    dup = show(['server', 'list', '--name', '^%s$' % plain,
                '-c', 'ID', '-c', 'Name', '-c', 'Status'])
    duplicates = dup.stdout.count(plain)

    ports = ports_of(name), ports_of(plain)
    balancers = load_balancers(uid)
    print('\n== Result: with a token, %s and %d port; without, %d servers '
          'and %d ports for one intended create.' % (
              'one server, printed by every retry' if ours else
              'UNEXPECTED RESULT', ports[0], duplicates, ports[1]))
    print('== Load balancers: with a token %d, without %d, for one '
          'intended create each.' % balancers)
    for server in (name, plain):
        subprocess.run([base.OPENSTACK, 'server', 'delete', '--wait'] +
                       [s for s in subprocess.run(
                           [base.OPENSTACK, 'server', 'list', '--name',
                            '^%s$' % server, '-f', 'value', '-c', 'ID'],
                           env=ENV, text=True, capture_output=True)
                        .stdout.split()], env=ENV, capture_output=True)
    return 0 if ours and duplicates == 2 and ports == (1, 2) and \
        balancers == (1, 2) else 1


def load_balancers(uid):
    """The same crash and retry for a load balancer, with and without a
    token: how many each leaves (deleted after, once Octavia allows)."""
    create = ['loadbalancer', 'create', '--vip-subnet-id', 'private-subnet',
              '--name']
    counts, made = [], []
    for name, extra in (('demo-lb-' + uid, ['--client-token', 'lb-' + uid]),
                        ('demo-lb-plain-' + uid, [])):
        print('\n== A load balancer, %s' % (
            'with a client token' if extra else 'without a token'))
        crash_mid_request(create + [name] + extra, 'Octavia')
        show(create + [name] + extra + ['-f', 'value', '-c', 'id'])
        listing = show(['loadbalancer', 'list', '--name', name, '-f',
                        'value', '-c', 'id', '-c', 'name'])
        ids = listing.stdout.split()[::2]
        counts.append(len(ids))
        made += ids
    for lb in made:
        for _ in range(30):  # Octavia refuses while it is pending
            if subprocess.run([base.OPENSTACK, 'loadbalancer', 'delete', lb],
                              env=ENV, capture_output=True).returncode == 0:
                break
            time.sleep(1)
    return tuple(counts)


def ports_of(name):
    """How many ports the servers named ``name`` have on the network."""
    ids = subprocess.run([base.OPENSTACK, 'server', 'list', '--name',
                          '^%s$' % name, '-f', 'value', '-c', 'ID'], env=ENV,
                         text=True, capture_output=True).stdout.split()
    return sum(len(subprocess.run(
        [base.OPENSTACK, 'port', 'list', '--server', server, '-f', 'value',
         '-c', 'ID'], env=ENV, text=True, capture_output=True)
        .stdout.split()) for server in ids)


if __name__ == '__main__':
    sys.exit(main())
