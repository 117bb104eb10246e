"""Write the journal and the cloud-side markers of a released idemclient,
for ``test_release_fixture`` to read with the current code.

Run with the release's code first on the path, from a checkout of it::

    git worktree add /tmp/rel <release commit>
    cd idemclient/tests/unit/data
    PYTHONPATH=/tmp/rel python make_release_fixture.py . <release commit>

Every kind of request (and a tracked volume swap) gets a journal entry with
a client token and a task tag; the even ones are recorded done, the odd
ones left pending (their response lost). ``release-cloud.json`` holds, per
entry, the resource as the cloud stores it: the markers exactly as the
release's own code put them into the create request.
"""

import json
import os
import sys

from idemclient.core import journal as journal_mod
from idemclient.core import token as tokens
from idemclient.core.token import Scope
from idemclient.kinds import image as image_kind
from idemclient.kinds import keypair
from idemclient.kinds import server

SCOPE = Scope('http://keystone.example/v3', 'project-1', 'user-1')
CREATED = '2026-11-20T10:00:00Z'
PUBLIC_KEY = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvKhEMvpLCc4gH1Xb1eRNq'
              'vZXRoVzXm4cL3Y0QnBn7d')


def _kinds():
    from idemclient.kinds import backup
    from idemclient.kinds import floating_ip
    from idemclient.kinds import network
    from idemclient.kinds import port
    from idemclient.kinds import router
    from idemclient.kinds import security_group
    from idemclient.kinds import server_image
    from idemclient.kinds import snapshot
    from idemclient.kinds import volume
    return {'volume': volume.VolumeKind, 'snapshot': snapshot.SnapshotKind,
            'backup': backup.BackupKind, 'network': network.NetworkKind,
            'port': port.PortKind, 'router': router.RouterKind,
            'security_group': security_group.SecurityGroupKind,
            'floating_ip': floating_ip.FloatingIPKind,
            'server_image': server_image.ServerImageKind}


def entries_and_bodies(journal):
    kinds = _kinds()
    cloud = {}

    def record(n, request, body, resource_id):
        entry = journal.begin_attempt(
            scope=SCOPE, operation=request.operation,
            idem_key=request.idem_key, marker=request.marker,
            fingerprint=request.fingerprint.encode(),
            client_token=request.client_token, task_tag=request.task_tag,
            target=request.target)
        if n % 2 == 0:
            journal.mark_done(entry.uuid, [resource_id], 'req-cloud-%d' % n)
        body = dict(body, id=resource_id, created_at=CREATED)
        cloud[entry.uuid] = {'operation': request.operation, 'body': body,
                             'task_tag': request.task_tag}

    def names(n):
        return 'tok-%d' % n, 'tag-%d' % n, 'item-%d' % n

    n = 0
    token, tag, name = names(n)
    kwargs = {'name': name, 'flavor_id': 'f1', 'image_id': 'i1',
              'networks': 'none', 'min_count': 1, 'max_count': 1}
    request = server.request_for(SCOPE, kwargs, token, tag)
    attempt = 'idem-at-' + '0' * 32
    record(n, request, {
        'name': name, 'status': 'ACTIVE', 'created': CREATED,
        'tags': request.markers() + [attempt],
        'metadata': {server.FINGERPRINT_KEY: request.fingerprint.encode()}},
        'server-%d' % n)

    n += 1
    token, tag, name = names(n)
    kwargs = {'name': name, 'public_key': PUBLIC_KEY, 'key_type': 'ssh'}
    request = keypair.request_for(SCOPE, kwargs, token, tag, False)
    record(n, request, {'name': name, 'public_key': keypair.with_markers(
        PUBLIC_KEY, request)}, name)

    for noun in ('volume', 'snapshot', 'backup'):
        n += 1
        token, tag, name = names(n)
        kind = kinds[noun]
        kwargs = {'name': name, 'size': 1} if noun == 'volume' else {
            'name': name, 'volume_id': 'volume-src'}
        request = kind.request_for(SCOPE, kwargs, token, tag)
        record(n, request, {'name': name, 'status': 'available',
                            'volume_id': kwargs.get('volume_id'),
                            'metadata': kind.marker_metadata(request)},
               '%s-%d' % (noun, n))

    for noun in ('network', 'port', 'router', 'security_group',
                 'floating_ip'):
        n += 1
        token, tag, name = names(n)
        kind = kinds[noun]
        kwargs = {'name': name, 'description': 'made by a script'}
        request = kind.request_for(SCOPE, kwargs, token, tag)
        # Ports carry their markers as tags where the cloud allows it.
        marked = kind.marked_kwargs(kwargs, request, noun == 'port')
        body = {'name': name, 'status': 'ACTIVE',
                'project_id': SCOPE.project_id,
                'description': marked.get('description', ''),
                'tags': marked.get('tags', [])}
        if noun == 'security_group':
            del body['status']
        record(n, request, body, '%s-%d' % (noun, n))

    n += 1
    token, tag, name = names(n)
    kwargs = {'name': name, 'disk_format': 'raw',
              'container_format': 'bare'}
    request = image_kind.ImageKind.request_for(SCOPE, kwargs, token, tag)
    record(n, request, dict(image_kind.marker_properties(
        request, image_kind.OPERATION), name=name, status='active'),
        image_kind.image_id_for(request.task_id))

    n += 1
    token, tag, name = names(n)
    kind = kinds['server_image']
    kwargs = {'server': 'server-0', 'name': name}
    request = kind.request_for(SCOPE, kwargs, token, tag)
    record(n, request, dict(image_kind.marker_properties(
        request, kind.operation), name=name, status='active',
        instance_uuid='server-0'), 'snapshot-image-%d' % n)

    n += 1
    _, tag, _ = names(n)
    from idemclient.core import fingerprint as fp
    from idemclient.core import idempotent
    from idemclient import tasks
    request = idempotent.Request(
        tasks.SWAP, SCOPE, fp.Fingerprint.of(
            {'server': 'server-swap', 'old_volume': 'v-old',
             'new_volume': 'v-new'}),
        tasks.swap_marker(SCOPE, tag), task_tag=tag, target='server-swap')
    entry = journal.begin_attempt(
        scope=SCOPE, operation=request.operation, idem_key=request.idem_key,
        marker=request.marker, fingerprint=request.fingerprint.encode(),
        task_tag=tag, target=request.target)
    journal.mark_done(entry.uuid, ['server-swap'], 'req-swap')
    cloud[entry.uuid] = {'operation': request.operation, 'task_tag': tag,
                         'body': {'id': 'server-swap', 'status': 'ACTIVE',
                                  'created': CREATED, 'tags': [
                                      request.marker, tokens.id_tag(
                                          tasks.SWAP, entry.uuid)]}}
    return cloud


def main(directory, commit):
    path = os.path.join(directory, 'release-journal.sqlite')
    for stale in (path, path + '-wal', path + '-shm', path + '.lock'):
        if os.path.exists(stale):
            os.unlink(stale)
    with journal_mod.Journal.open(path) as journal:
        cloud = entries_and_bodies(journal)
    for extra in (path + '-wal', path + '-shm', path + '.lock'):
        if os.path.exists(extra):
            os.unlink(extra)
    with open(os.path.join(directory, 'release-cloud.json'), 'w') as out:
        json.dump({'scope': [SCOPE.auth_url, SCOPE.project_id,
                             SCOPE.user_id],
                   'release': commit, 'entries': cloud},
                  out, indent=1,
                  sort_keys=True)
        out.write('\n')


if __name__ == '__main__':
    main(*sys.argv[1:3])
