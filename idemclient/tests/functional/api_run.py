"""A Python program on openstacksdk that creates through ``idemclient.api``
(the functional tests run it as a process of its own, to kill it at the
crash matrix's points): ``python -m idemclient.tests.functional.api_run
KIND TOKEN|- TAG|- ATTRS_JSON``. The ``OS_*`` environment is the cloud;
prints the resource (``to_dict()``) with ``outcome`` and ``task_id`` as
JSON; exits 75 for an unknown outcome, 1 for a refusal, as the command."""

import json
import sys

import openstack

from idemclient import api


def main(argv):
    kind, token, tag, attrs = argv
    try:
        made = api.create(openstack.connect(), kind,
                          client_token=None if token == '-' else token,
                          task_tag=None if tag == '-' else tag,
                          progress=lambda line: print(line, file=sys.stderr),
                          **json.loads(attrs))
    except api.Unknown as exc:
        print(exc, file=sys.stderr)
        return exc.exit_status
    except api.IdemError as exc:
        print(exc, file=sys.stderr)
        return 1
    shown = made.resource.to_dict(computed=False)
    shown.update(outcome=made.outcome, task_id=made.task_id)
    print(json.dumps(shown))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
