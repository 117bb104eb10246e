"""One module per kind of resource a request can make safe to retry: how
to mark it, find it again, fetch it and send it (see ``core.idempotent``)."""
