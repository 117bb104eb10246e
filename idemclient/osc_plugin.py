"""The OSC plugin module: imported on every ``openstack`` run, so it only
declares (no sqlite, no HTTP, no cryptography here).

Commands live in the ``openstack.idem.v1`` entry point group; the
``--client-token`` options come from cliff hooks (see ``hooks``).
"""

API_NAME = 'idem'
API_VERSION_OPTION = 'os_idem_api_version'
API_VERSIONS = ('1',)
DEFAULT_API_VERSION = '1'


def make_client(instance):
    """idemclient's commands use the service clients OSC already has."""
    return None


def build_option_parser(parser):
    # OSC parses its global options first, allowing abbreviations: with
    # ours, a command's own ``--id`` (image create) would be taken as an
    # ambiguous ``--idem-...`` and refused. Global options are spelt out.
    parser.allow_abbrev = False
    parser.add_argument(
        '--os-idem-api-version', metavar='<idem-api-version>',
        default=DEFAULT_API_VERSION,
        help='The idemclient command set version (default: %s)'
        % DEFAULT_API_VERSION)
    parser.add_argument(
        '--idem-journal', metavar='<path>', default=None,
        help='The idemclient journal file (default: env[IDEMCLIENT_JOURNAL], '
        'else $XDG_STATE_HOME/idemclient/journal.sqlite)')
    parser.add_argument(
        '--idem-settle-seconds', metavar='<seconds>', default=None,
        help='How long a new server with a client token must exist, on the '
        'compute API\'s clock, before the one to keep among runs of the '
        'same token on several hosts is decided (default: '
        'env[IDEMCLIENT_SETTLE_SECONDS], else 3). 0 turns the settle step '
        'off: unsafe when hosts run the same token at the same moment.')
    return parser
