"""What the hooks and commands read from the OSC app they run in: the
journal's path, whose request it is, how long to settle, which lock
backend. Imports lazily: the hooks' module loads it on every create."""


def journal_path(app):
    from idemclient.core import journal
    return getattr(app.options, 'idem_journal', None) or \
        journal.default_path()


def scope_of(app, adapter):
    """(auth URL, project, user) of the session the command uses."""
    from idemclient.core import token
    auth = adapter.session.auth
    auth_url = getattr(auth, 'auth_url', None) or \
        app.client_manager.get_configuration().get('auth', {}).get(
            'auth_url')
    return token.Scope(auth_url, adapter.get_project_id(),
                       adapter.get_user_id())


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


def reservation(app, parsed_args, request, say):
    """The reservation a create of ``request`` takes, or None when they
    are turned off (option, environment, clouds.yaml)."""
    from idemclient.clients import errors
    from idemclient.clients import image
    from idemclient import reservations
    config = app.client_manager.get_configuration()
    if not reservations.enabled(getattr(parsed_args, 'no_reservation', None),
                                config):
        return None
    try:
        lease = reservations.lease_seconds(config)
    except ValueError as exc:
        raise errors.Refused('%s Nothing was sent.' % exc)
    try:
        images = image.ImageClient(app.client_manager.image)
    except Exception:  # no image service in this cloud's catalog
        images = None
    return reservations.Reservation(images, request,
                                    app.client_manager.region_name, lease,
                                    say)
