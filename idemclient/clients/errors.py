"""Where the cloud's answers are translated, once, into ``ApiError``
(``core.errors``: the cloud's own message, the status and the request id).
The tree's other classes are re-exported for the kinds' use."""

import email.utils
import re
import time

from idemclient.core.errors import ApiError  # noqa: F401
from idemclient.core.errors import IdemError  # noqa: F401
from idemclient.core.errors import Refused  # noqa: F401
from idemclient.core.errors import Unknown  # noqa: F401


# The statuses that say "not now" rather than "no": a gateway that found
# no service or gave up waiting for it (502, 503, 504), too many requests
# (429). A 500 is the service's own failure, not retried.
TRANSIENT_STATUSES = (429, 502, 503, 504)


def request_id_of(response):
    return (response.headers.get('x-openstack-request-id') or
            response.headers.get('x-compute-request-id'))


def _cloud_message(response):
    """The message inside an OpenStack error body, else the reason."""
    try:
        body = response.json()
    except ValueError:
        return _one_line(response.text) or response.reason
    if isinstance(body, dict) and len(body) == 1:
        inner = next(iter(body.values()))
        if isinstance(inner, dict) and inner.get('message'):
            return inner['message']
    if isinstance(body, dict) and (body.get('message') or
                                   body.get('faultstring')):  # Octavia's
        return body.get('message') or body['faultstring']
    return response.text.strip() or response.reason


def _one_line(text):
    """An HTML error page (webob's, as Glance answers) as one line."""
    text = text or ''
    if '<' in text:
        text = re.sub(r'(?s)<title>.*?</title>|<[^>]*>', ' ', text)
    return ' '.join(text.split())


def raise_for_status(response, what):
    if response.status_code >= 400:
        raise ApiError('%s: %s' % (what, _cloud_message(response)),
                       response.status_code, request_id_of(response),
                       response.status_code in TRANSIENT_STATUSES,
                       retry_after(response))
    return response


def retry_after(response, now=None):
    """The seconds a response's ``Retry-After`` asks to wait (a number or
    an HTTP date), or None."""
    value = (getattr(response, 'headers', None) or {}).get('Retry-After')
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def sdk_error(exc):
    """Translate an openstacksdk, keystoneauth or octaviaclient exception
    to ApiError (octaviaclient's is raised from keystoneauth's, which has
    the response)."""
    response = getattr(exc, 'response', None)
    if response is None:
        response = getattr(exc.__cause__, 'response', None)
    status = getattr(exc, 'status_code', None) or getattr(
        exc, 'http_status', None) or getattr(response, 'status_code', None)
    request_id = getattr(exc, 'request_id', None) or (
        request_id_of(response) if response is not None else None)
    message = getattr(exc, 'details', None) or str(exc)
    transient = status in TRANSIENT_STATUSES or (
        status is None and _no_answer(exc))
    return ApiError(_without_suffixes(message), status, request_id,
                    transient, retry_after(response))


def _no_answer(exc):
    """keystoneauth's connection failure or timeout (not a TLS error:
    that one stays until someone fixes it)."""
    from keystoneauth1 import exceptions
    return isinstance(exc, exceptions.ConnectionError) and \
        not isinstance(exc, exceptions.SSLError)


def _without_suffixes(message):
    """keystoneauth writes the status and request id into its message;
    ``ApiError`` adds them once."""
    return re.sub(r'(?: \((?:HTTP \d+|Request-ID: [^)]*)\))+$', '',
                  message) or message


def response_request_id(response):
    return request_id_of(response) if response is not None else None
