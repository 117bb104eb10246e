"""Fingerprints of a create request's parameters.

A retry must send the same request as the first attempt, so a token used with
other parameters is refused before anything is sent. The fingerprint is kept
twice: in the local journal and on the server itself (metadata), so a host
without a journal entry can check it too. Besides one digest of the whole
request it carries a short digest per parameter, which lets the refusal name
what differs.
"""

import hashlib
import json

VERSION = 'v1'
# Nova's limit for a metadata value.
MAX_ENCODED_LENGTH = 255
_FIELD_DIGEST_LENGTH = 8
# Secrets are never fingerprinted: the digest ends up in server metadata.
EXCLUDED = frozenset({'admin_password', 'adminPass'})

# The metadata key a resource's fingerprint rides under where metadata
# takes ':' (Nova's and Cinder's); stored by released versions.
METADATA_KEY = 'idemclient:params'


def _plain(value):
    """JSON for values the CLI may hand over that JSON cannot encode."""
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    name = getattr(value, 'name', None)  # an open file (personality)
    if isinstance(name, str):
        return 'file:' + name
    return repr(value)


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'),
                      default=_plain)


def _digest(text, length):
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class Fingerprint:
    """Digest of a whole request plus a short digest per parameter."""

    def __init__(self, digest, fields):
        self.digest = digest
        self.fields = dict(fields)

    @classmethod
    def of(cls, params, unordered=()):
        """``unordered``: the names of the parameters that are sets (tags,
        security groups): compared whatever their order, which OSC does
        not always keep (``list(set(...))`` differs between processes)."""
        kept = {k: v for k, v in params.items()
                if k not in EXCLUDED and v is not None}
        for name in unordered:
            if isinstance(kept.get(name), (list, tuple, set, frozenset)):
                kept[name] = sorted(kept[name], key=_canonical)
        fields = {k: _digest(_canonical(v), _FIELD_DIGEST_LENGTH)
                  for k, v in kept.items()}
        return cls(_digest(_canonical(kept), 32), fields)

    def encode(self):
        """One line of at most 255 characters, for a metadata value.

        The per-parameter digests are dropped, last ones first, when they do
        not fit: equality still holds, only the naming of differences is
        lost for the dropped ones.
        """
        text = '%s %s' % (VERSION, self.digest)
        parts = ['%s=%s' % kv for kv in sorted(self.fields.items())]
        while parts:
            candidate = '%s %s' % (text, ','.join(parts))
            if len(candidate) <= MAX_ENCODED_LENGTH:
                return candidate
            parts.pop()
        return text

    @classmethod
    def decode(cls, text):
        """Parse ``encode()``'s output; None when it is not one of ours."""
        bits = (text or '').split(' ')
        if len(bits) not in (2, 3) or bits[0] != VERSION or not bits[1]:
            return None
        fields = {}
        if len(bits) == 3 and bits[2]:
            for part in bits[2].split(','):
                key, sep, value = part.partition('=')
                if not sep:
                    return None
                fields[key] = value
        return cls(bits[1], fields)

    def differences(self, other):
        """Names of the parameters that differ (best effort), sorted; none
        when either side kept only its digest."""
        if not self.fields or not other.fields:
            return []
        names = set(self.fields) | set(other.fields)
        return sorted(n for n in names
                      if self.fields.get(n) != other.fields.get(n))

    def __eq__(self, other):
        return isinstance(other, Fingerprint) and self.digest == other.digest

    def __hash__(self):
        return hash(self.digest)

    def __repr__(self):
        return 'Fingerprint(%r)' % self.encode()
