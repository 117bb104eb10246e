"""Requests a command leaves to a process of its own, so that its user does
not wait for them: the outcome written on a reservation once the create
has answered (``reservations.Reservation.record``), which spares other
hosts a lookup and is never the command's result.

``spawn`` starts a fresh Python running ``main`` here (nothing shared
with the command's memory or sockets) in a session of its own, its output
on /dev/null, and hands it the calls on its standard input: each the
method, URL, headers (the token among them: a pipe, never an argument a
process listing shows) and TLS settings of the command's session. Proxies
and CA bundles from the environment apply as they did in the command, both
being ``requests`` in one environment. An alarm ends the process if the
cloud never answers.
"""

import json
import os
import signal
import subprocess
import sys

ALARM_SECONDS = 60
# Isolated (-I: no current directory, no PYTHON* variables on the path),
# then this process's own path: the same idemclient and requests.
STARTER = ('import sys; sys.path[:] = %r; import importlib; '
           'importlib.import_module(%r).main()')
TIMEOUT_SECONDS = 30


def call(adapter, method, path, json_body, headers=None):
    """What ``send`` needs to make ``method path`` as ``adapter`` would:
    its endpoint, token and the session's TLS settings."""
    session = adapter.session
    return {'method': method,
            'url': adapter.get_endpoint().rstrip('/') + path,
            'headers': dict(headers or {}, **{
                'X-Auth-Token': adapter.get_token(),
                'Accept': 'application/json',
                'User-Agent': 'idemclient'}),
            'json': json_body, 'verify': session.verify,
            'cert': session.cert}


def spawn(calls, hold=True):
    """Start the process that sends ``calls``: it (a ``Popen``) once
    started, None (nothing sent) where it cannot start.

    With ``hold``, the calls go down a pipe this process never closes: the
    kernel closes it when this process ends, and only then does the other
    read them and start its work, so as not to slow this one's end."""
    reading, writing = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, '-I', '-c', STARTER % (sys.path, __name__)],
            stdin=reading, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        os.close(writing)
        return None
    finally:
        os.close(reading)
    try:
        os.write(writing, json.dumps(calls).encode())
    except OSError:  # it ended at once: broken
        hold = False
        process = None
    if not hold:
        os.close(writing)
    return process


def send(calls):
    """Send each call, whatever became of the one before; the statuses."""
    import requests
    statuses = []
    for each in calls:
        try:
            response = requests.request(timeout=TIMEOUT_SECONDS, **each)
            statuses.append(response.status_code)
        except requests.RequestException:
            statuses.append(None)
    return statuses


def main():
    calls = json.loads(sys.stdin.read())  # once the command has ended
    signal.alarm(ALARM_SECONDS)
    send(calls)


if __name__ == '__main__':
    main()
