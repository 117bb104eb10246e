"""What the cloud shows for one request (an ``Observation``), and what
Nova's instance actions say of one: shared by every part of the task
model, and importing none of them."""

from idemclient.clients import errors
from idemclient.core import converge


class Observation:
    """What the cloud shows for one request."""

    def __init__(self, state, resource_ids=(), error=None, action=None,
                 final=True, ports=None):
        self.state = state
        # A server's ports (their ids), where the task is a server's
        # create and they were asked for; None otherwise.
        self.ports = ports
        self.resource_ids = list(resource_ids)
        self.error = error
        self.action = action  # instance action with its events, if any
        # False while a decision is owed (servers racing): nothing to
        # record yet
        self.final = final


def server_state(server):
    status = (server.get('status') or '').upper()
    if status == 'ERROR':
        return 'failed', (server.get('fault') or {}).get(
            'message') or 'The server is in ERROR.'
    if status == 'BUILD':
        return 'accepted', None
    return 'succeeded', None


def action_state(action):
    """accepted / succeeded / failed from an instance action's events."""
    events = action.get('events') or []
    failed = [e for e in events if (e.get('result') or '').lower() ==
              'error']
    if failed or (action.get('message') or '').lower() == 'error':
        detail = '; '.join(filter(None, (e.get('details') or e.get(
            'event') for e in failed)))
        return 'failed', 'Action %s failed%s' % (
            action.get('action'), ': ' + detail if detail else '.')
    if not events or any(not e.get('finish_time') for e in events):
        return 'accepted', None
    return 'succeeded', None


def instance_action(compute, server_id, name, request_id=None, since=None):
    """The instance action of a request, with its events: by Nova's
    request id when known, else the newest ``name`` action (since
    ``since``, an epoch, allowing a minute of clock skew)."""
    try:
        actions = compute.instance_actions(server_id)
    except errors.ApiError:
        return None
    for action in actions:
        if request_id and action.get('request_id') != request_id:
            continue
        if action.get('action') != name:
            continue
        if since is not None and not request_id:
            started = converge.epoch(action.get('start_time'))
            if started is not None and started < since - 60:
                continue
        return compute.instance_action(server_id, action['request_id'])
    return None
