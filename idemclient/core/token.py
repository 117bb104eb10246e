"""Client tokens: the rule they follow, whom they belong to, and their tag.

A token follows EC2's rule: 1 to 64 printable ASCII characters, compared
case-sensitively. It belongs to one (auth URL, project, user): the same token
used elsewhere is a different request. On the cloud a server carries a tag
derived from the token and its scope, because tags are the only marker every
Nova since 2.52 takes at create time and can filter on.
"""

import hashlib
import re

from idemclient.core import registry

MAX_TOKEN_LENGTH = 64
MAX_TAG_LENGTH = 60  # Nova's limit for a server tag
_PRINTABLE_ASCII = re.compile(r'[\x20-\x7e]{1,%d}' % MAX_TOKEN_LENGTH)
# Tokens shown as they are in a tag: lower case (MySQL compares tags without
# case) and free of Nova's forbidden '/' and ','. Anything else is hashed.
_TAG_SAFE = re.compile(r'[a-z0-9][a-z0-9._-]*')


class InvalidToken(ValueError):
    """The token breaks the rule; nothing may be sent or journaled.

    Its text is a sentence without its full stop, like ``JournalError``'s.
    """


def validate(token, what='client token'):
    """Return ``token`` if it follows the rule, else raise InvalidToken."""
    if token is None or not _PRINTABLE_ASCII.fullmatch(token):
        raise InvalidToken(
            'Invalid %s %r: use 1 to %d printable ASCII characters'
            % (what, token, MAX_TOKEN_LENGTH))
    return token


def validate_given(client_token, task_tag):
    """Check whichever of a request's token and task tag were given."""
    if client_token is not None:
        validate(client_token)
    if task_tag is not None:
        validate(task_tag, 'task tag')


def _sha256(*parts):
    return hashlib.sha256('\0'.join(parts).encode()).hexdigest()


class Scope:
    """Whose request this is: (auth URL, project, user), and the region on
    a cloud whose catalog has several (``context.scope_of``): one token is
    then one request per region, as EC2's are. Without a region the key is
    what releases before regions derived, so tokens of a one-region cloud
    stay what they were."""

    def __init__(self, auth_url, project_id, user_id, region=''):
        self.auth_url = (auth_url or '').rstrip('/')
        self.project_id = project_id or ''
        self.user_id = user_id or ''
        self.region = region or ''
        parts = (self.auth_url, self.project_id, self.user_id)
        if self.region:
            parts += ('region:' + self.region,)
        self.key = _sha256(*parts)

    def without_region(self):
        """The scope as releases before regions derived it."""
        return Scope(self.auth_url, self.project_id, self.user_id)

    def __eq__(self, other):
        return isinstance(other, Scope) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return 'Scope(%r, %r, %r, %r)' % (
            self.auth_url, self.project_id, self.user_id, self.region)


def derive_tag(scope, token, prefix='idem'):
    """The marker put on the cloud for ``token`` in ``scope``.

    ``<prefix>-<8 hex of the scope>-<token>`` when the token is tag-safe and
    short enough, else ``<prefix>-<8 hex of the scope>-~<hash of the token>``
    (``~`` never occurs in a tag-safe token, so the two forms cannot meet).
    """
    head = '%s-%s-' % (prefix, scope.key[:8])
    if _TAG_SAFE.fullmatch(token) and len(head) + len(token) <= MAX_TAG_LENGTH:
        return head + token
    room = MAX_TAG_LENGTH - len(head) - 1
    return head + '~' + _sha256(token)[:room]


# What a task's resource carries so that its task id (the journal's entry
# id, derived from the request key) is found from any host: a prefix per
# operation (``registry``), then the id's 32 hex digits.
_ID_PREFIXES = {kind.operation: kind.id_prefix for kind in registry.KINDS}


def id_tag(operation, task_id):
    """``idem-tc-<32 hex>`` (create), ``-ts-`` (swap), ``-tk-`` (keypair)."""
    return _ID_PREFIXES[operation] + task_id.replace('-', '')


def task_id_of(markers, operation):
    """The task id in a resource's tags (or key comment), else None."""
    prefix = _ID_PREFIXES[operation]
    for marker in markers or ():
        if marker.startswith(prefix) and len(marker) == len(prefix) + 32:
            hexa = marker[len(prefix):]
            return '%s-%s-%s-%s-%s' % (hexa[:8], hexa[8:12], hexa[12:16],
                                       hexa[16:20], hexa[20:])
    return None
