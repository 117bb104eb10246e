"""A create's one POST: never re-sent by the HTTP layer, for every
service."""


def guarded_create(adapter, create, request_id, client_token):
    """Run ``create()`` (an SDK create call) so that its one POST carries
    our request id and ``X-Client-Token``, and is never re-sent by the
    HTTP layer (keystoneauth retries read timeouts and some statuses):
    a create is repeated only through the token lookup.

    Returns ``(result, response)``; the response gives the cloud's own
    request id, which its instance actions are keyed by.
    """
    original = adapter.post
    responses = []

    def post(url, **kwargs):
        headers = dict(kwargs.get('headers') or {})
        headers['X-Client-Token'] = client_token
        kwargs.update(headers=headers, global_request_id=request_id,
                      connect_retries=0, status_code_retries=0)
        response = original(url, **kwargs)
        responses.append(response)
        return response

    adapter.post = post
    try:
        result = create()
    finally:
        del adapter.post
    return result, (responses[-1] if responses else None)
