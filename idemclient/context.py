"""What the hooks and commands read from the OSC app they run in: the
journal's path, whose request it is, how long to settle, which lock
backend. Imports lazily: the hooks' module loads it on every create."""


def journal_path(app):
    from idemclient.core import journal
    return getattr(app.options, 'idem_journal', None) or \
        journal.default_path()


def scope_of(app, adapter):
    """(auth URL, project, user) of the session the command uses, and its
    region where the catalog has more than one."""
    from idemclient.core import token
    auth = adapter.session.auth
    auth_url = getattr(auth, 'auth_url', None) or \
        app.client_manager.get_configuration().get('auth', {}).get(
            'auth_url')
    project, user = adapter.get_project_id(), adapter.get_user_id()
    return token.Scope(auth_url, project, user, _region(app, adapter))


def _region(app, adapter):
    """The command's region on a cloud with several, else ''. (The
    catalog of OSC's own login, as ``image_endpoint`` reads it.)"""
    try:
        catalog = app.client_manager.auth_ref.service_catalog.catalog
        regions = {endpoint.get('region_id') or endpoint.get('region')
                   for service in catalog or ()
                   for endpoint in service.get('endpoints') or ()}
    except Exception:  # no catalog (a token endpoint): one region
        return ''
    if len(regions - {None, ''}) <= 1:
        return ''
    return app.client_manager.region_name or \
        getattr(adapter, 'region_name', None) or ''


def settle_seconds(app):
    """D of the settle step (``core.converge``): option, environment, 3 s."""
    from idemclient.core import converge
    from osc_lib import exceptions
    try:
        return converge.seconds_from(
            getattr(app.options, 'idem_settle_seconds', None))
    except ValueError as exc:
        raise exceptions.CommandError('%s Nothing was sent.' % exc)


def coordination_url(app):
    from idemclient.core import coordination
    return coordination.backend_url(
        app.client_manager.get_configuration())


def reservation(app, parsed_args, request, say, slot_only=False):
    """The reservation a create of ``request`` takes, or None when they
    are turned off (option, environment, clouds.yaml). ``slot_only``: a
    request the cloud itself refuses twice takes only its task tag's slot
    (None without a task tag)."""
    from idemclient.clients import errors
    from idemclient import reservations
    config = app.client_manager.get_configuration()
    if not reservations.enabled(getattr(parsed_args, 'no_reservation', None),
                                config) or \
            (slot_only and request.task_tag is None):
        return None
    try:
        lease = reservations.lease_seconds(config)
    except ValueError as exc:
        raise errors.Refused('%s Nothing was sent.' % exc)
    return reservations.Reservation(image_client(app), request,
                                    app.client_manager.region_name, lease,
                                    say, slot_only=slot_only,
                                    detach=outcome_writer(app, parsed_args))


def outcome_writer(app, parsed_args):
    """How a create's outcome is written on its reservation when nobody
    waits for it: ``clients.later.spawn`` (another process sends it once
    the command has ended) when the process ends with this command, the
    ``openstack`` command run once; else None, a thread: the interactive
    shell and the Python API live on, ``--debug`` shows every request the
    command sends, and ``--wait`` leaves time to send it meanwhile."""
    if getattr(app, 'interactive_mode', True) or \
            getattr(app.options, 'debug', False) or \
            getattr(parsed_args, 'wait', False) is True:
        return None
    from idemclient.clients import later
    return later.spawn


def retries(app, parsed_args):
    """How often a create with a token is tried again after a transient
    failure (``core.retry``): option, environment, clouds.yaml, default."""
    from idemclient.clients import errors
    from idemclient.core import retry
    import os
    try:
        count = retry.retries_from(
            getattr(parsed_args, 'retries', None),
            app.client_manager.get_configuration(), os.environ)
    except ValueError as exc:
        raise errors.Refused('%s Nothing was sent.' % exc)
    return retry.Policy(count)


def image_client(app):
    """An ``ImageClient`` on Glance's ``/v2`` (``image_endpoint``), or
    None when the cloud has no image service."""
    from idemclient.clients import image
    endpoint = image_endpoint(app)
    return image.ImageClient(_adapter(app, 'image', endpoint)) \
        if endpoint else None


def load_balancer_client(app):
    """A ``LoadBalancerClient`` on Octavia's ``/v2.0`` (the catalog's
    ``load-balancer``, or its endpoint override), or None when the cloud
    has none: whether or not octaviaclient is installed here, another
    host's load balancers can be observed."""
    from idemclient.clients import load_balancer
    endpoint = _catalog_url(app, 'load-balancer')
    return load_balancer.LoadBalancerClient(_adapter(
        app, 'load-balancer', load_balancer.endpoint_of(endpoint))) \
        if endpoint else None


def _catalog_url(app, service_type):
    """The endpoint override of ``service_type``, else its catalog URL in
    the command's region and interface; None when there is none."""
    manager = app.client_manager
    endpoint = manager.get_configuration().get(
        '%s_endpoint_override' % service_type.replace('-', '_'))
    if endpoint:
        return endpoint
    try:
        return manager.auth_ref.service_catalog.url_for(
            service_type=service_type, interface=manager.interface,
            region_name=manager.region_name)
    except Exception:  # keystoneauth's EndpointNotFound and kin
        return None


def image_endpoint(app):
    """Glance's ``/v2`` endpoint, from the endpoint override or the
    catalog: no version discovery (a request the create does not need);
    None when the cloud has no image service."""
    import re
    endpoint = _catalog_url(app, 'image')
    if not endpoint:
        return None
    endpoint = endpoint.rstrip('/')
    if not re.search(r'/v2(\.\d+)?$', endpoint):
        endpoint += '/v2'
    return endpoint


def _adapter(app, service_type, endpoint):
    from keystoneauth1 import adapter
    return adapter.Adapter(app.client_manager.session,
                           service_type=service_type,
                           endpoint_override=endpoint)
