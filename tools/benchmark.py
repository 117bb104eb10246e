#!/usr/bin/env python3
"""Measure idemclient's speed and size targets; print the figures.

1. ``openstack server create --help`` wall time with and without the
   plugin installed (two virtualenvs alike but for idemclient, installed
   with ``pip install .``; runs alternated), median ratio; target <= 1.03.
2. HTTP requests of ``server create`` against the local real cloud: plain,
   with a client token (first run), its retry and a retry from another
   host; targets: <= 3 extra on the first run (the reservation, the lookup,
   the outcome), 0 creates on a retry, and no more requests than a plain
   create from another host once the settle time has passed (right after
   the create, that host tells it from a race of hosts by reading the
   reservation: printed too).
3. Journal commit latency p50/p99 and token lookup time in a journal of
   1,000,000 entries; targets <= 5 ms and <= 1 ms.
4. ``openstack task resume`` over 1,000 pending entries: HTTP requests;
   target <= 25 (5 of them really on the cloud, as after a crash).
   The same for ``volume create``, ``volume snapshot create`` and ``volume
   backup create``, and for ``network``, ``port``, ``router``, ``security
   group`` and ``floating ip create``, ``image create``, ``server image
   create`` and ``loadbalancer create``.
5. First-run ``server create`` wall time with a token vs plain, without
   and with ``--wait`` (runs alternated, each in the reverse order of the
   one before; medians; the ratio is the median of each run's to the
   plain run beside it), target <= 1.10 without; idemclient installed as
   a user installs it (``installed_venv``), and the outcome a run leaves
   to another process written before the next run starts (untimed: the
   command has ended); with a coordination backend (a real etcd on
   loopback) if ``etcd`` is installed; and the same ratio for the other
   kinds (target <= 1.10).
   A retry of ``network create`` from another host, and ``task show
   --tag`` of its tag and of an unknown one, with 500 more networks in the
   project: as many requests as without them.
6. What importing tooz costs, paid only when a backend is configured.

Usage: tools/benchmark.py [--runs N] [--entries N] [--skip-cloud]
                          [--only neutron|cinder|servers|glance|octavia|
                                  times|many]
Run from the repository with .venv set up (tools/setup-venv.sh); the cloud
part starts the local cloud if it does not answer, and stops it after.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, '.venv')
PLAIN_VENV = os.path.join(ROOT, '.venv-plain')
INSTALLED_VENV = os.path.join(ROOT, '.venv-installed')
CLOUDCTL = os.path.join(ROOT, 'idemclient', 'tests', 'functional', 'cloud',
                        'cloudctl.py')
sys.path.insert(0, ROOT)


def say(text):
    print(text, flush=True)


def plain_venv(path=PLAIN_VENV):
    """The project's venv less idemclient, made once."""
    if not os.path.exists(os.path.join(path, 'bin', 'openstack')):
        say('making %s (the same packages, without idemclient)...' % path)
        subprocess.run([sys.executable, '-m', 'venv', path], check=True)
        freeze = subprocess.run(
            [os.path.join(VENV, 'bin', 'pip'), 'freeze', '--exclude-editable'],
            check=True, capture_output=True, text=True).stdout
        reqs = os.path.join(path, 'requirements.txt')
        with open(reqs, 'w') as f:
            f.write('\n'.join(line for line in freeze.splitlines()
                              if not line.startswith('idemclient')))
        subprocess.run([os.path.join(path, 'bin', 'pip'), 'install',
                        '-q', '-r', reqs], check=True)
    return os.path.join(path, 'bin', 'openstack')


def installed_venv():
    """The same packages plus idemclient installed as a user would
    (``pip install .``, not the editable install of .venv, whose import
    hook every Python start pays)."""
    binary = plain_venv(INSTALLED_VENV)
    subprocess.run([os.path.join(INSTALLED_VENV, 'bin', 'pip'), 'install',
                    '-q', '--no-deps', '--force-reinstall', ROOT],
                   check=True, capture_output=True)
    return binary


def bench_help(runs):
    with_plugin = installed_venv()
    without = plain_venv()
    argv = ['server', 'create', '--help']
    times = {with_plugin: [], without: []}
    for binary in (with_plugin, without):  # warm the page cache
        subprocess.run([binary] + argv, capture_output=True, check=True)
    for _ in range(runs):
        for binary in (with_plugin, without):
            start = time.perf_counter()
            subprocess.run([binary] + argv, capture_output=True, check=True)
            times[binary].append(time.perf_counter() - start)
    out = subprocess.run([with_plugin] + argv, capture_output=True,
                         text=True).stdout
    assert '--client-token' in out, 'plugin not loaded'
    a = statistics.median(times[with_plugin])
    b = statistics.median(times[without])
    say('server create --help: with plugin median %.3fs, without %.3fs, '
        'ratio %.3f (target <= 1.03; %d runs each, alternated)'
        % (a, b, a / b, runs))


def count_requests(args, journal, env, post=r'/servers\b', printed=None,
                   check=True):
    """Run openstack --debug; count keystoneauth's REQ lines (and keep
    what it printed in ``printed``); unless ``check``, a failing command
    is counted too."""
    result = subprocess.run(
        [os.path.join(VENV, 'bin', 'openstack'), '--debug'] + args,
        capture_output=True, text=True,
        env=dict(env, IDEMCLIENT_JOURNAL=journal))
    if check and result.returncode != 0:
        raise SystemExit('failed: %s\n%s' % (args, result.stderr[-2000:]))
    if printed is not None:
        printed.append(result.stdout.strip())
    lines = [x for x in result.stderr.splitlines() if 'REQ: curl' in x]
    posts = [x for x in lines if re.search(r'-X POST \S+' + post, x)]
    return len(lines), len(posts)


def bench_requests():
    from idemclient.core import converge
    from idemclient.tests.functional import base
    env = base.osc_env('admin', '/dev/null')
    tmp = tempfile.mkdtemp()
    journal = os.path.join(tmp, 'journal.sqlite')
    uid = uuid.uuid4().hex[:8]
    create = list(base.CREATE)
    plain, plain_posts = count_requests(create + ['bench-plain-' + uid],
                                        journal, env)
    token = ['--client-token', 'bench-' + uid, 'bench-tok-' + uid]
    settle = converge.DEFAULT_SECONDS
    first, first_posts = count_requests(create + token, journal, env)
    made = time.monotonic()
    # Another host right after the create, within the settle time, cannot
    # tell it from a race of hosts by the server alone: it reads the
    # reservation (one GET), whose holder made it.
    soon, soon_posts = count_requests(create + token,
                                      os.path.join(tmp, 'soon'), env)
    retry, retry_posts = count_requests(create + token, journal, env)
    time.sleep(max(0.0, made + settle + 1 - time.monotonic()))
    other, other_posts = count_requests(create + token,
                                        os.path.join(tmp, 'other'), env)
    say_counts('server', ((plain, plain_posts), (first, first_posts),
                          (retry, retry_posts), (other, other_posts)))
    say('server create, retry from an empty journal right after the create '
        '(within its %.0fs settle time, as in a race of hosts): %d (%d POST, '
        '%+d vs plain; the line above: after the settle time)' % (
            settle, soon, soon_posts, soon - plain))
    waited, _ = count_requests(create + ['--wait', 'bench-plainw-' + uid],
                               journal, env)
    token_waited, _ = count_requests(
        create + ['--wait', '--client-token', 'benchw-' + uid,
                  'bench-tokw-' + uid], journal, env)
    say('server create --wait HTTP requests: plain %d; with token, first run '
        '%d (%+d)' % (waited, token_waited, token_waited - waited))
    subprocess.run([os.path.join(VENV, 'bin', 'openstack'), 'server',
                    'delete', 'bench-plain-' + uid, 'bench-tok-' + uid,
                    'bench-plainw-' + uid, 'bench-tokw-' + uid],
                   env=env, capture_output=True)


def say_counts(noun, figures):
    """Print (requests, POSTs) of a plain create, a token's first run, its
    retry and its retry from an empty journal (another host). The POSTs
    are the kind's creates; the requests include the reservation's."""
    (plain, plain_posts), (first, first_posts), (retry, retry_posts), \
        (other, other_posts) = figures
    say('%s create HTTP requests: plain %d (%d POST); with token, first run '
        '%d (%d POST, %+d vs plain; target <= +3); retry %d (%d POST; '
        'target 0); retry from an empty journal %d (%d POST, %+d vs plain; '
        'target 0 POST, <= +0)'
        % (noun, plain, plain_posts, first, first_posts, first - plain,
           retry, retry_posts, other, other_posts, other - plain))


def bench_cinder_requests():
    """Requests of volume, snapshot and backup create, plain and with a
    token (first run, retry, retry from an empty journal): as admin, and
    as a member, whom the local Cinder lets filter on nothing (the marker
    is then matched among the project's items)."""
    cinder_requests_as('admin', '')
    cinder_requests_as('demo', ' (member: no metadata filter)')


def cinder_requests_as(user, label):
    from idemclient.tests.functional import base
    env = base.osc_env(user, '/dev/null')
    tmp = tempfile.mkdtemp()
    uid = uuid.uuid4().hex[:8]
    openstack = os.path.join(VENV, 'bin', 'openstack')
    # By id: a member may not look a volume up by name on the local Cinder.
    source = subprocess.run(
        [openstack, 'volume', 'create', '--size', '1', 'bv-src-' + uid,
         '-f', 'value', '-c', 'id'], env=env, capture_output=True, text=True,
        check=True).stdout.strip()
    kinds = (('volume', ['volume', 'create', '--size', '1'], r'/volumes\b'),
             ('snapshot', ['volume', 'snapshot', 'create', '--volume',
                           source], r'/snapshots\b'),
             ('backup', ['volume', 'backup', 'create', source, '--name'],
              r'/backups\b'))
    for noun, create, post in kinds:
        journal = os.path.join(tmp, noun + '.sqlite')
        figures = []
        for args, where in (
                (['bv-%s-plain-%s' % (noun, uid)], journal),
                (['--client-token', 'bv-' + uid, 'bv-%s-%s' % (noun, uid)],
                 journal),
                (['--client-token', 'bv-' + uid, 'bv-%s-%s' % (noun, uid)],
                 journal),
                (['--client-token', 'bv-' + uid, 'bv-%s-%s' % (noun, uid)],
                 os.path.join(tmp, noun + '-other.sqlite'))):
            wait_available(openstack, env, source)
            if noun == 'backup':  # the name option takes the next word
                args = args[-1:] + args[:-1]
            figures.append(count_requests(create + args, where, env, post))
        say_counts(noun + label, figures)
    wait_available(openstack, env, source)
    for command in (['volume', 'backup'], ['volume', 'snapshot'],
                    ['volume']):
        listed = json.loads(subprocess.run(
            [openstack] + command + ['list', '-f', 'json'], env=env,
            capture_output=True, text=True, check=True).stdout)
        for item in listed:
            if uid not in (item.get('Name') or '') or item['ID'] == source:
                continue
            for _ in range(60):  # one still creating refuses to go
                if subprocess.run([openstack] + command + [
                        'delete', item['ID']], env=env,
                        capture_output=True).returncode == 0:
                    break
                time.sleep(1)
    subprocess.run([openstack, 'volume', 'delete', source], env=env,
                   capture_output=True)


def bench_neutron_requests():
    """Requests of the Neutron creates, plain and with a token (first run,
    retry, retry from an empty journal)."""
    from idemclient.tests.functional import base
    env = base.osc_env('admin', '/dev/null')
    tmp = tempfile.mkdtemp()
    uid = uuid.uuid4().hex[:8]
    openstack = os.path.join(VENV, 'bin', 'openstack')
    network = subprocess.run(
        [openstack, 'network', 'create', 'bn-net-' + uid, '-f', 'value',
         '-c', 'id'], env=env, capture_output=True, text=True,
        check=True).stdout.strip()
    kinds = (('network', ['network', 'create'], None, 'networks'),
             ('port', ['port', 'create', '--network', network], None,
              'ports'),
             ('router', ['router', 'create'], None, 'routers'),
             ('security group', ['security', 'group', 'create'], None,
              'security-groups'),
             ('floating ip', ['floating', 'ip', 'create'], 'public',
              'floatingips'))
    made = []
    for noun, create, last, collection in kinds:
        journal = os.path.join(tmp, collection + '.sqlite')
        name = last or 'bn-%s' % uid
        token = ['--client-token', 'bn-' + uid]
        figures = [count_requests(create + extra + [name, '-f', 'value',
                                                    '-c', 'id'],
                                  where, env, r'/' + collection + r'\b',
                                  made)
                   for extra, where in (
                       ([], journal), (token, journal), (token, journal),
                       (token, os.path.join(tmp, collection + '-2.sqlite')))]
        say_counts(noun, figures)
        ids = set(made[-4:])
        made[-4:] = []
        subprocess.run([openstack] + create[:-1] + ['delete'] + sorted(ids),
                       env=env, capture_output=True)
    subprocess.run([openstack, 'network', 'delete', network], env=env,
                   capture_output=True)


def bench_load_balancer_requests():
    """Requests of ``loadbalancer create`` (python-octaviaclient's), plain
    and with a token (first run, retry, retry from an empty journal)."""
    from idemclient.tests.functional import base
    env = base.osc_env('admin', '/dev/null')
    tmp = tempfile.mkdtemp()
    uid = uuid.uuid4().hex[:8]
    create = ['loadbalancer', 'create', '--vip-subnet-id', 'private-subnet',
              '--name', 'bl-' + uid, '-f', 'value', '-c', 'id']
    token = ['--client-token', 'bl-' + uid]
    made = []
    journal = os.path.join(tmp, 'lb.sqlite')
    figures = [count_requests(create + extra, where, env,
                              r'/lbaas/loadbalancers\b', made)
               for extra, where in (([], journal), (token, journal),
                                    (token, journal),
                                    (token, os.path.join(tmp, 'lb-2')))]
    say_counts('loadbalancer', figures)
    delete_load_balancers(env, set(made))


def delete_load_balancers(env, ids):
    """Octavia refuses a delete until the load balancer is ACTIVE."""
    openstack = os.path.join(VENV, 'bin', 'openstack')
    for lb in ids:
        for _ in range(30):
            if subprocess.run([openstack, 'loadbalancer', 'delete', lb],
                              env=env, capture_output=True).returncode == 0:
                break
            time.sleep(1)


def bench_glance_requests():
    """Requests of ``image create`` (64 KiB of data) and ``server image
    create``, plain and with a token (first run, retry, retry from an empty
    journal)."""
    from idemclient.tests.functional import base
    env = base.osc_env('admin', '/dev/null')
    tmp = tempfile.mkdtemp()
    uid = uuid.uuid4().hex[:8]
    openstack = os.path.join(VENV, 'bin', 'openstack')
    data = os.path.join(tmp, 'disk.raw')
    with open(data, 'wb') as f:
        f.write(b'\0' * 65536)
    server = subprocess.run(
        [openstack] + list(base.CREATE) + ['--wait', 'bg-' + uid, '-f',
                                           'value', '-c', 'id'],
        env=env, capture_output=True, text=True, check=True).stdout.strip()
    kinds = (('image', ['image', 'create', '--disk-format', 'raw',
                        '--container-format', 'bare', '--file', data],
              r'/images\b'),
             ('server image', ['server', 'image', 'create', server,
                               '--name'], r'/action\b'))
    made = []
    for noun, create, post in kinds:
        journal = os.path.join(tmp, noun + '.sqlite')
        token = ['--client-token', 'bg-' + uid]
        shown = ['-f', 'value', '-c', 'id']
        figures = [count_requests(create + [name] + extra + shown, where,
                                  env, post, made)
                   for name, extra, where in (
                       ('bg-plain-' + uid, [], journal),
                       ('bg-tok-' + uid, token, journal),
                       ('bg-tok-' + uid, token, journal),
                       ('bg-tok-' + uid, token,
                        os.path.join(tmp, noun + '-2.sqlite')))]
        say_counts(noun, figures)
    subprocess.run([openstack, 'image', 'delete'] + sorted(set(made)),
                   env=env, capture_output=True)
    subprocess.run([openstack, 'server', 'delete', server], env=env,
                   capture_output=True)


def wait_available(openstack, env, volume, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = subprocess.run(
            [openstack, 'volume', 'show', volume, '-f', 'value', '-c',
             'status'], env=env, capture_output=True, text=True).stdout
        if status.strip() == 'available':
            return
        time.sleep(0.5)
    raise SystemExit('volume %s did not become available' % volume)


def timed_create(openstack, args, journal, env):
    start = time.perf_counter()
    subprocess.run([openstack] + args +
                   ['-f', 'value', '-c', 'id'], check=True,
                   capture_output=True, env=dict(env,
                                                 IDEMCLIENT_JOURNAL=journal))
    took = time.perf_counter() - start
    outcomes_written()
    return took


def outcomes_written(timeout=60):
    """Wait, untimed, until no command's outcome is still being written by
    the process it left (``idemclient.clients.later``): the next run then
    has the machine as the last one found it."""
    from idemclient.tests.functional import base
    deadline = time.monotonic() + timeout
    while base.outcome_writers() and time.monotonic() < deadline:
        time.sleep(0.01)


def alternated(variants, run):
    """The variants in turn, each run's order reversed from the last's:
    neither runs always first after the one before it."""
    return variants if run % 2 == 0 else variants[::-1]


def paired_ratio(plain, other):
    """'ratio R, middle half L-H': R is the median of each run's ratio to
    the plain run beside it (the machine's load drifts, and a run and its
    neighbour share it); L-H, where the middle half of those ratios lies,
    says how much one batch's median can be trusted."""
    ratios = [o / p for p, o in zip(plain, other)]
    text = 'ratio %.2f' % statistics.median(ratios)
    if len(ratios) < 2:
        return text
    low, _, high = statistics.quantiles(ratios, n=4)
    return text + ', middle half %.2f-%.2f' % (low, high)


def bench_create_time(runs, openstack):
    """Wall time of ``server create`` with ``openstack`` (idemclient
    installed as a user installs it, ``installed_venv``: compiled, no
    editable import hook), plain and with a token; see the module."""
    from idemclient.tests.functional import base
    env = base.osc_env('admin', '/dev/null')
    journal = os.path.join(tempfile.mkdtemp(), 'journal.sqlite')
    uid = uuid.uuid4().hex[:8]
    variants = {'plain': [], 'token': []}
    etcd_url = start_etcd()
    if etcd_url:
        variants['token+etcd'] = []
    names = []
    for wait in ([], ['--wait']):
        times = {v: [] for v in variants}
        for i in range(runs):
            for variant in alternated(list(variants), i):
                name = 'bench-t-%s-%s-%d%s' % (variant.replace('+', '-'), uid,
                                               i, 'w' if wait else '')
                names.append(name)
                args = list(base.CREATE) + wait + [name]
                run_env = env
                if variant != 'plain':
                    args += ['--client-token', name]
                if variant == 'token+etcd':
                    run_env = dict(env, IDEMCLIENT_COORDINATION_URL=etcd_url)
                times[variant].append(timed_create(
                    openstack, args, journal, run_env))
        plain = statistics.median(times['plain'])
        say('server create%s wall time, median of %d: plain %.2fs; %s'
            % (' --wait' if wait else '', runs, plain, '; '.join(
                '%s %.2fs (%+.2fs, %s%s)' % (
                    v, statistics.median(t), statistics.median(t) - plain,
                    paired_ratio(times['plain'], t),
                    '; target <= 1.10' if v == 'token' and not wait else '')
                for v, t in times.items() if v != 'plain')))
    for start in range(0, len(names), 20):
        subprocess.run([openstack, 'server', 'delete'] +
                       names[start:start + 20], env=env,
                       capture_output=True)


def bench_kind_times(runs, openstack):
    """Wall time of each other kind's create with ``openstack`` (as
    ``bench_create_time``), plain and with a token (a first run: a new
    token each time), runs alternated; median ratio, target <= 1.10."""
    from idemclient.tests.functional import base
    env = base.osc_env('admin', '/dev/null')
    journal = os.path.join(tempfile.mkdtemp(), 'journal.sqlite')
    uid = uuid.uuid4().hex[:8]

    def made(*args):
        return subprocess.run([openstack] + list(args) + [
            '-f', 'value', '-c', 'id'], env=dict(
                env, IDEMCLIENT_JOURNAL=journal), capture_output=True,
            text=True, check=True).stdout.strip()
    source = made('volume', 'create', '--size', '1', 'bt-src-' + uid)
    network = made('network', 'create', 'bt-net-' + uid)
    wait_available(openstack, env, source)
    kinds = (('volume', ['volume', 'create', '--size', '1'], 'volume'),
             ('snapshot', ['volume', 'snapshot', 'create', '--volume',
                           source], 'volume snapshot'),
             ('network', ['network', 'create'], 'network'),
             ('port', ['port', 'create', '--network', network], 'port'),
             ('router', ['router', 'create'], 'router'),
             ('security group', ['security', 'group', 'create'],
              'security group'),
             ('floating ip', ['floating', 'ip', 'create', '--description'],
              'floating ip'),
             ('loadbalancer', ['loadbalancer', 'create', '--vip-subnet-id',
                               'private-subnet', '--name'], None))
    for noun, create, command in kinds:
        times = {'plain': [], 'token': []}
        ids = []
        for i in range(runs):
            for variant in alternated(list(times), i):
                name = 'bt-%s-%s-%d' % (variant, uid, i)
                args = create + [name]
                if noun == 'floating ip':
                    args += ['public']
                if variant == 'token':
                    args += ['--client-token', name]
                start = time.perf_counter()
                ids.append(made(*args))
                times[variant].append(time.perf_counter() - start)
                outcomes_written()
        plain = statistics.median(times['plain'])
        token = statistics.median(times['token'])
        say('%s create wall time, median of %d: plain %.2fs; token %.2fs '
            '(%+.2fs, %s; target <= 1.10)'
            % (noun, runs, plain, token, token - plain,
               paired_ratio(times['plain'], times['token'])))
        if command is None:
            delete_load_balancers(env, ids)
            continue
        for item in ids:
            for _ in range(60):  # a snapshot still creating refuses
                if subprocess.run([openstack] + command.split() + [
                        'delete', item], env=env,
                        capture_output=True).returncode == 0:
                    break
                time.sleep(1)
    subprocess.run([openstack, 'network', 'delete', network], env=env,
                   capture_output=True)
    subprocess.run([openstack, 'volume', 'delete', source], env=env,
                   capture_output=True)


def bench_times(runs):
    openstack = installed_venv()
    bench_create_time(runs, openstack)
    bench_kind_times(runs, openstack)


def bench_many_networks(count=500):
    """A retry from another host (an empty journal) of a network create,
    and ``task show --tag`` from another host, with the project's networks
    as they are and with ``count`` more: their requests must not grow."""
    from idemclient.tests.functional import base
    env = base.osc_env('admin', '/dev/null')
    tmp = tempfile.mkdtemp()
    uid = uuid.uuid4().hex[:8]
    journals = iter(os.path.join(tmp, '%d.sqlite' % n) for n in range(99))
    token = ['network', 'create', '--client-token', 'bm-' + uid,
             '--task-tag', 'bmt-' + uid, 'bm-' + uid, '-f', 'value',
             '-c', 'id']
    any_post = r'/(?!v3/auth/tokens)'  # every POST but Keystone's login
    plain, _ = count_requests(['network', 'create', 'bmp-' + uid],
                              next(journals), env)
    made = []
    count_requests(token, next(journals), env, any_post, made)

    def measured():
        return (count_requests(token, next(journals), env, any_post),
                count_requests(['task', 'show', '--tag', 'bmt-' + uid],
                               next(journals), env),
                count_requests(['task', 'show', '--tag', 'never-' + uid],
                               next(journals), env, check=False))
    before = measured()
    session = base.session_for('admin')
    endpoint = session.get_endpoint(service_type='network',
                                    interface='public').rstrip('/')
    extra = [session.post(endpoint + '/v2.0/networks', json={'network': {
        'name': 'bm-%s-%d' % (uid, n)}}).json()['network']['id']
        for n in range(count)]
    after = measured()
    for label, index, target in (
            ('network create, retry from an empty journal', 0,
             '<= %d, a plain create\'s, and 0 POST' % plain),
            ('task show --tag of that create, from another host', 1, '<= 3'),
            ('task show --tag of a tag no host used', 2, '<= 3')):
        say('%s: %d requests (%d POST) with the project as it is; %d (%d '
            'POST) with %d networks more (target %s, the same)'
            % ((label,) + before[index] + after[index] + (count, target)))
    for network in extra + made:
        session.delete(endpoint + '/v2.0/networks/' + network,
                       raise_exc=False)
    subprocess.run([os.path.join(VENV, 'bin', 'openstack'), 'network',
                    'delete', 'bmp-' + uid], env=env, capture_output=True)


def start_etcd():
    """A real etcd on loopback for the benchmark, or None if not
    installed; stopped when the benchmark exits."""
    import atexit
    import shutil
    if not shutil.which('etcd'):
        say('etcd is not installed: no figures with a coordination backend')
        return None
    from idemclient.tests.functional import etcd
    fixture = etcd.Etcd()
    fixture.setUp()
    atexit.register(fixture.cleanUp)
    return fixture.coordination_url()


def bench_tooz_import(runs):
    """Marginal import time of tooz and its etcd driver after OSC's and
    idemclient's own modules; and that an unconfigured run loads none."""
    code = ('import time, sys\n'
            'import openstackclient.shell, openstack, osc_lib.command\n'
            'from idemclient import hooks\n'
            'from idemclient.kinds import server\n'
            'from idemclient.core import idempotent\n'
            'assert "tooz" not in sys.modules\n'
            't = time.perf_counter()\n'
            'import tooz.coordination, tooz.drivers.etcd3gw\n'
            'print(time.perf_counter() - t)\n')
    python = os.path.join(VENV, 'bin', 'python')
    times = [float(subprocess.run([python, '-c', code], check=True,
                                  capture_output=True, text=True).stdout)
             for _ in range(runs)]
    say('importing tooz + its etcd driver after OSC and idemclient: median '
        '%.0f ms of %d runs; an unconfigured run does not import it'
        % (statistics.median(times) * 1000, runs))


def bench_resume(pending=1000, real=5):
    """``task resume --all`` over ``pending`` pending creates, ``real`` of
    which the cloud really has (their clients "died" after sending)."""
    from idemclient.core import journal as jmod
    from idemclient.core import token as tokens
    from idemclient.tests.functional import base
    import sqlite3
    env = base.osc_env('admin', '/dev/null')
    journal = os.path.join(tempfile.mkdtemp(), 'journal.sqlite')
    uid = uuid.uuid4().hex[:8]
    names = ['bench-resume-%s-%d' % (uid, i) for i in range(real)]
    for i, name in enumerate(names):
        count_requests(list(base.CREATE) + ['--client-token', 'r%d-%s'
                                            % (i, uid), name], journal, env)
    conn = sqlite3.connect(journal)
    conn.execute("UPDATE request SET state='pending', resource_ids='[]', "
                 'updated_at=updated_at-60')
    conn.commit()
    scope_row = conn.execute('SELECT auth_url, project_id, user_id '
                             'FROM request').fetchone()
    conn.close()
    scope = tokens.Scope(*scope_row)
    with jmod.Journal.open(journal) as j:
        for i in range(pending - real):
            token = 'lost-%d-%s' % (i, uid)
            j.begin_attempt(scope=scope, operation='server.create',
                            idem_key='token:' + token,
                            marker=tokens.derive_tag(scope, token),
                            fingerprint='f', client_token=token)
        j._conn.execute('UPDATE request SET updated_at=updated_at-60')
    # A server younger than the settle time is left settling by resume
    # (it cannot tell a race is over before then): as after a crash, the
    # real ones are older.
    time.sleep(3.5)
    total, _ = count_requests(['task', 'resume', '--all', '-f', 'value',
                               '-c', 'State'], journal, env)
    with jmod.Journal.open(journal) as j:
        done = len(j.entries('done'))
    say('task resume --all over %d pending creates: %d HTTP requests '
        '(target <= 25); %d found on the cloud and recorded done, %d still '
        'pending (not-found)' % (pending, total, done, pending - done))
    subprocess.run([os.path.join(VENV, 'bin', 'openstack'), 'server',
                    'delete'] + names, env=env, capture_output=True)


def bench_journal(entries):
    from idemclient.core import journal as jmod
    from idemclient.core.token import Scope
    import sqlite3
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, 'journal.sqlite')
    jmod.Journal.open(path).close()
    scope = Scope('http://k/v3', 'project', 'user')
    start = time.perf_counter()
    conn = sqlite3.connect(path)
    now = time.time()
    conn.executemany(
        'INSERT INTO request (uuid, operation, scope, auth_url, project_id, '
        'user_id, idem_key, client_token, marker, fingerprint, state, '
        "resource_ids, attempts, created_at, updated_at) VALUES "
        "(?, 'server.create', ?, 'http://k/v3', 'project', 'user', ?, ?, "
        "'m', 'v1 f', 'done', '[\"x\"]', 1, ?, ?)",
        ((str(uuid.uuid4()), scope.key, 'token:t%d' % i, 't%d' % i, now, now)
         for i in range(entries)))
    conn.commit()
    conn.close()
    say('journal: %d entries written in %.1fs, file %.0f MiB'
        % (entries, time.perf_counter() - start,
           os.path.getsize(path) / 2**20))
    journal = jmod.Journal.open(path)
    commits, lookups = [], []
    for i in range(300):
        t0 = time.perf_counter()
        entry = journal.begin_attempt(
            scope=scope, operation='server.create', idem_key='token:n%d' % i,
            marker='m', fingerprint='v1 f', client_token='n%d' % i)
        t1 = time.perf_counter()
        journal.mark_done(entry.uuid, ['x'])
        commits.append(t1 - t0)
    for i in range(2000):
        key = 'token:t%d' % ((i * 7919) % entries)
        t0 = time.perf_counter()
        found = journal.find(scope.key, 'server.create', key)
        lookups.append(time.perf_counter() - t0)
        assert found is not None
    journal.close()

    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(len(values) * p))] * 1000

    say('journal commit (pending record, fsynced): p50 %.2f ms, p99 %.2f ms '
        '(target <= 5 ms); token lookup in %d entries: p50 %.3f ms, p99 '
        '%.3f ms (target <= 1 ms)' % (pct(commits, .5), pct(commits, .99),
                                      entries, pct(lookups, .5),
                                      pct(lookups, .99)))


def cloud_answers():
    import urllib.request
    try:
        urllib.request.urlopen('http://127.0.0.1:25000/v3', timeout=2)
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=15)
    parser.add_argument('--entries', type=int, default=1000000)
    parser.add_argument('--create-runs', type=int, default=5)
    parser.add_argument('--skip-cloud', action='store_true')
    parser.add_argument('--only', choices=('neutron', 'cinder', 'servers',
                                           'glance', 'octavia', 'times',
                                           'many'),
                        help='Only the request counts of these creates')
    args = parser.parse_args()
    if not args.only:
        bench_journal(args.entries)
        bench_help(args.runs)
        bench_tooz_import(args.runs)
    if args.skip_cloud:
        return
    started = False
    if not cloud_answers():
        subprocess.run([sys.executable, CLOUDCTL, 'up'], check=True)
        started = True
    try:
        if args.only:
            {'neutron': bench_neutron_requests, 'cinder':
             bench_cinder_requests, 'servers': bench_requests,
             'glance': bench_glance_requests,
             'octavia': bench_load_balancer_requests,
             'times': lambda: bench_times(args.create_runs),
             'many': bench_many_networks}[args.only]()
            return
        bench_requests()
        bench_cinder_requests()
        bench_neutron_requests()
        bench_glance_requests()
        bench_load_balancer_requests()
        bench_times(args.create_runs)
        bench_many_networks()
        bench_resume()
    finally:
        if started:
            subprocess.run([sys.executable, CLOUDCTL, 'down'])


if __name__ == '__main__':
    main()
