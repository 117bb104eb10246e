"""The tasks of Glance's kinds (image create, and a server's snapshot):
found by the image's properties (``kinds.image``) from any host.

An image is ``accepted`` while it waits for or receives its data,
``succeeded`` once ``active`` (or ``deactivated``: it exists, an admin
disabled it) and ``failed`` when ``killed``. A snapshot can fail before
its image has data, and Nova then deletes the image: the server's
``createImage`` action tells that, and gives the task its events.
A cloud without Glance shows no image tasks.
"""

from idemclient.clients import errors
from idemclient.contract import Tasks
from idemclient.core import registry
from idemclient.core import token as tokens
from idemclient.kinds import image as image_kind
from idemclient.kinds import server_image
from idemclient.observation import action_state
from idemclient.observation import instance_action
from idemclient.observation import Observation

IMAGE, SERVER_IMAGE = (registry.BY_COMMAND['image create'].operation,
                       registry.BY_COMMAND['server image create'].operation)
OPERATIONS = tuple(kind.operation
                   for kind in registry.of_service('image'))
BUSY = ('queued', 'saving', 'uploading', 'importing')
GONE = ('deleted', 'pending_delete')
# Nova 34 deletes a failed snapshot's image and still records its event
# as a success: a vanished image is all the API shows.
VANISHED = ('The snapshot\'s image no longer exists: Nova deletes it when '
            'the snapshot fails (see the server\'s instance faults), or it '
            'was deleted since.')
NO_DATA = ('The image has no data yet: if it was created with data, run '
           'the same command again to upload it.')


def judge(operation, body, action=None):
    """The task's observation from its image (and its snapshot's action)."""
    ids = [body['id']] if body else []
    if action is not None:
        state, error = action_state(action)
        if state == 'failed':
            return Observation('failed', ids, error, action)
    if body is None:
        return Observation('deleted', [], VANISHED, action) \
            if action is not None else None
    status = body.get('status')
    if status in BUSY:
        note = NO_DATA if operation == IMAGE and status == 'queued' else None
        return Observation('accepted', ids, note, action)
    if status == 'killed':
        return Observation('failed', ids, 'Glance could not store '
                           'the image\'s data (killed).', action)
    if status in GONE:
        return Observation('deleted', ids, None, action)
    return Observation('succeeded', ids, None, action)


def _snapshot_action(compute, server_id, request_id=None, since=None):
    if not server_id or compute is None:
        return None
    return instance_action(compute, server_id, 'createImage', request_id,
                           since)


def _observe_found(operation, body, compute):
    action = _snapshot_action(compute, body.get('instance_uuid')) \
        if operation == SERVER_IMAGE else None
    return judge(operation, body, action)


def _marked(clients, key, value):
    if not clients.has('images'):
        return []
    try:
        return clients.images.with_property(key, value)
    except errors.ApiError:
        return []


def _task_id(body):
    """(operation, task id) an image carries, else (None, None)."""
    for operation in OPERATIONS:
        task_id = tokens.task_id_of([body.get(image_kind.TASK_KEY) or ''],
                                    operation)
        if task_id:
            return operation, task_id
    return None, None


class GlanceTasks(Tasks):

    def observe(self, entry, clients, found=None):
        """An image by its derived id, a snapshot by its properties
        (``found``: its marked images, when already listed); a
        snapshot's ``createImage`` action tells what the image cannot
        (Nova deletes a failed snapshot's image)."""
        if entry.state == 'failed':
            return Observation('failed', entry.resource_ids, entry.error)
        images = clients.images
        if entry.state == 'done':
            body = images.get(entry.resource_ids[0])
        elif entry.operation == IMAGE:
            body = images.get(image_kind.image_id_for(entry.uuid))
        else:
            if found is None:
                found = server_image.marked_images(
                    images, entry.operation, entry.marker, entry.uuid)
            body = found[0] if found else None
        if entry.operation == IMAGE:
            if body is None:
                return Observation('deleted', entry.resource_ids) \
                    if entry.state == 'done' else None
            return judge(IMAGE, body)
        action = _snapshot_action(clients.compute, entry.target,
                                  entry.response_request_id,
                                  entry.created_at)
        observation = judge(SERVER_IMAGE, body, action)
        if observation is not None and not observation.resource_ids:
            observation.resource_ids = list(entry.resource_ids)
        return observation

    def reconcile(self, clients, entries, settle_seconds, say,
                  progress=None):
        """Each entry as ``observe`` sees it; a pending snapshot's task
        also deletes the images Nova made for it but never took, as a
        rerun of its command does (``server_image.discard_orphans``)."""
        observed = {}
        for entry in entries:
            if entry.operation != SERVER_IMAGE or entry.state != 'pending' \
                    or not clients.has('images'):
                observed[entry.uuid] = self.observe(entry, clients)
                continue
            found = server_image.marked_images(
                clients.images, entry.operation, entry.marker, entry.uuid)
            observation = self.observe(entry, clients, found)
            observed[entry.uuid] = observation
            if observation is not None and observation.resource_ids:
                server_image.discard_orphans(
                    clients.images, found, observation.resource_ids[0],
                    say or (lambda message: None))
        return observed

    def by_tag(self, clients, scope, tag):
        """Each image create and snapshot carrying the task tag's marker;
        a snapshot that inherited another's properties is not counted
        twice (the oldest is the one)."""
        result, seen = [], set()
        tag_marker = tokens.derive_tag(scope, tag, prefix='task')
        for body in _marked(clients, image_kind.TAG_KEY, tag_marker):
            operation, task_id = _task_id(body)
            if operation and task_id not in seen:
                seen.add(task_id)
                result.append((operation, _observe_found(
                    operation, body, clients.compute), task_id))
        return result

    def by_id(self, clients, scope, task_id):
        for operation in OPERATIONS:
            found = _marked(clients, image_kind.TASK_KEY,
                            tokens.id_tag(operation, task_id))
            if found:
                return [(operation, _observe_found(
                    operation, found[0], clients.compute), task_id)]
        return []


TASKS = GlanceTasks()
