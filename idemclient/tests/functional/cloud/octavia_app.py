"""Octavia's API for the local cloud: the real one, from PyPI, on a sqlite
file built from its models, with a status updater in place of a provider.

    python octavia_app.py --config-file octavia.conf --port 25876 [--delay 1]

serves it under gunicorn (one gthread worker, as Glance), the port on the
command line. ``gunicorn 'octavia_app:make_app("/path/octavia.conf")'``
does the same with gunicorn's own flags.

The no-op provider only logs: a load balancer would stay PENDING_CREATE
(or PENDING_UPDATE, PENDING_DELETE) for ever, and Octavia refuses a delete
then (409). ``StatusUpdater`` does what a provider reports back through
Octavia's driver agent, with the agent's own code (``DriverUpdater``, so
quota counters fall on delete): after ``delay`` seconds a pending create or
update becomes ACTIVE (ONLINE after a create), a delete DELETED (the row
stays, GET answers 404, as with Octavia's own drivers). A load balancer
whose name contains ERROR_MARKER goes to ERROR instead (operating status
stays OFFLINE, as after an amphora driver's failed create; Octavia keeps
no reason anywhere). Listeners, pools, members, health monitors, L7
policies and rules get the same provisioning status (deleted ones are
removed); their operating status is left as the API set it.
"""
import argparse
import os
import threading
import time

ERROR_MARKER = 'error-me'
POLL_SECONDS = 0.2


def make_app(config_file, delay=1.0):
    """The WSGI app, its schema made if need be, its updater running.
    Octavia's config is process-global (oslo.config): one per process."""
    from octavia.api import app

    # setup_app falls back to sys.argv, gunicorn's own flags
    application = app.setup_app(
        argv=['octavia-api', '--config-file', config_file])
    db_file = _db_file()
    _keep_noop_network_db_in(os.path.dirname(db_file))
    fresh = not os.path.exists(db_file)
    engine = _engine()   # oslo.db connects: the file exists from here on
    if fresh:
        _create_schema(engine)
    _serialize_sqlite_transactions(engine)
    StatusUpdater(delay).start()
    return application


def _db_file():
    from oslo_config import cfg
    import sqlalchemy as sa

    url = sa.engine.make_url(cfg.CONF.database.connection)
    if url.get_backend_name() != 'sqlite' or not url.database:
        raise SystemExit('octavia_app: [database] must be a sqlite file')
    return os.path.abspath(url.database)


def _engine():
    from octavia.db import api as db_api

    return db_api.get_engine()


def _keep_noop_network_db_in(directory):
    """The no-op network driver keeps its ports in a sqlite file of a fixed
    name, /tmp/octavia-network-noop.db, made again at every API call that
    loads the driver: shared by every Octavia on the machine. Keep it
    beside our database instead."""
    from octavia.network.drivers.noop_driver import driver
    import sqlalchemy as sa

    path = os.path.join(directory, 'octavia-network-noop.db')
    driver.create_engine = lambda url, **kw: sa.create_engine(
        'sqlite:///' + path, **kw)


def _create_schema(engine):
    """Octavia's alembic migrations are MySQL-only: the schema comes from the
    models, the lookup tables and placeholders seeded as Octavia's own
    functional tests seed them (OctaviaDBTestBase._seed_lookup_tables);
    foreign keys are enforced, so creates fail without them."""
    from octavia.common import constants as c
    from octavia.db import api as db_api
    from octavia.db import base_models
    from octavia.db import models as m

    base_models.BASE.metadata.create_all(engine)
    lookups = (
        (c.SUPPORTED_PROVISIONING_STATUSES, m.ProvisioningStatus),
        (c.SUPPORTED_HEALTH_MONITOR_TYPES, m.HealthMonitorType),
        (c.SUPPORTED_LB_ALGORITHMS, m.Algorithm),
        (c.SUPPORTED_PROTOCOLS, m.Protocol),
        (c.SUPPORTED_OPERATING_STATUSES, m.OperatingStatus),
        (c.SUPPORTED_SP_TYPES, m.SessionPersistenceType),
        (c.SUPPORTED_AMPHORA_ROLES, m.AmphoraRoles),
        (c.SUPPORTED_LB_TOPOLOGIES, m.LBTopology),
        (c.SUPPORTED_VRRP_AUTH, m.VRRPAuthMethod),
        (c.SUPPORTED_L7RULE_TYPES, m.L7RuleType),
        (c.SUPPORTED_L7RULE_COMPARE_TYPES, m.L7RuleCompareType),
        (c.SUPPORTED_L7POLICY_ACTIONS, m.L7PolicyAction),
        (c.SUPPORTED_CLIENT_AUTH_MODES, m.ClientAuthenticationMode),
    )
    session = db_api.get_session()
    with session.begin():
        for names, model in lookups:
            session.add_all(model(name=name) for name in names)
        # the id='DELETED' placeholders, each needing the one before
        for row in (
                m.FlavorProfile(
                    id=c.NIL_UUID, name='DELETED-PLACEHOLDER',
                    provider_name=c.DELETED, flavor_data='{}'),
                m.Flavor(
                    id=c.NIL_UUID, flavor_profile_id=c.NIL_UUID,
                    name='DELETED-PLACEHOLDER', enabled=False,
                    description='Placeholder for DELETED LBs with DELETED '
                                'flavors'),
                m.AvailabilityZoneProfile(
                    id=c.NIL_UUID, name='DELETED-PLACEHOLDER',
                    provider_name=c.DELETED, availability_zone_data='{}'),
                m.AvailabilityZone(
                    availability_zone_profile_id=c.NIL_UUID,
                    name=c.NIL_UUID, enabled=False,
                    description='Placeholder for DELETED LBs with DELETED '
                                'availability zones')):
            session.add(row)
            session.flush()


def _serialize_sqlite_transactions(engine):
    """Each transaction takes sqlite's write lock when it begins (``BEGIN
    IMMEDIATE``), as in glance_app.py: the API's threads and the updater
    would otherwise upgrade read locks at once and one get "database is
    locked" at once (seen: 500s on DELETE). A listener on the Engine class
    runs before oslo.db's on the engine (``insert=True`` on the engine does
    not); this engine only: the no-op network driver's emits its own
    ``BEGIN EXCLUSIVE``."""
    from sqlalchemy.engine import Engine
    from sqlalchemy import event

    @event.listens_for(Engine, 'begin')
    def _begin_immediate(connection):
        if connection.engine is engine and \
                'in_transaction' not in connection.info:
            connection.exec_driver_sql('BEGIN IMMEDIATE')
            connection.info['in_transaction'] = True


class StatusUpdater(threading.Thread):
    """Moves pending objects on as a provider would report it, polling
    every POLL_SECONDS."""

    def __init__(self, delay):
        super().__init__(name='octavia-status-updater', daemon=True)
        self.delay = delay
        self.first_seen = {}

    def run(self):
        from oslo_log import log as logging

        log = logging.getLogger('octavia_app')
        while True:
            time.sleep(POLL_SECONDS)
            try:
                self.step()
            except Exception:
                log.exception('status updater')

    def step(self):
        from octavia.api.drivers.driver_agent import driver_updater
        from octavia.common import constants as c
        from octavia.db import api as db_api
        from octavia.db import models as m
        from octavia_lib.common import constants as lib

        if not hasattr(self, 'updater'):
            self.updater = driver_updater.DriverUpdater()
            self.session = db_api.get_session()
        # children before parents: what a cascade delete removes first
        tables = ((c.L7RULES, m.L7Rule), (c.L7POLICIES, m.L7Policy),
                  (c.LISTENERS, m.Listener), (c.MEMBERS, m.Member),
                  (c.HEALTHMONITORS, m.HealthMonitor), (c.POOLS, m.Pool),
                  (c.LOADBALANCERS, m.LoadBalancer))
        pending = (c.PENDING_CREATE, c.PENDING_UPDATE, c.PENDING_DELETE)
        now = time.monotonic()
        status, seen = {key: {} for key, _ in tables}, {}
        with self.session.begin():
            # a child's change makes its load balancer pending too: while
            # none is, one query a poll
            if not self.session.query(m.LoadBalancer.id).filter(
                    m.LoadBalancer.provisioning_status.in_(pending)).first():
                self.first_seen = {}
                return
            for key, model in tables:
                rows = self.session.query(model).filter(
                    model.provisioning_status.in_(pending))
                for row in rows:
                    prov = row.provisioning_status
                    since = seen[row.id, prov] = self.first_seen.get(
                        (row.id, prov), now)
                    if now - since < self.delay:
                        continue
                    status[key][row.id] = self._record(c, key, row)
                    # moved on now: pending again later is a new request
                    del seen[row.id, prov]
                    if key == c.LOADBALANCERS and prov == c.PENDING_DELETE:
                        self._cascade(c, row, status)
        self.first_seen = seen
        for key, _ in tables:
            if status[key]:
                result = self.updater.update_loadbalancer_status(
                    {key: list(status[key].values())})
                if result[lib.STATUS_CODE] != lib.DRVR_STATUS_CODE_OK:
                    raise RuntimeError(result)

    @staticmethod
    def _record(c, key, row):
        prov = row.provisioning_status
        record = {'id': row.id}
        if prov == c.PENDING_DELETE:
            record['provisioning_status'] = c.DELETED
        elif key == c.LOADBALANCERS and ERROR_MARKER in (row.name or ''):
            record['provisioning_status'] = c.ERROR
        else:
            record['provisioning_status'] = c.ACTIVE
            if key == c.LOADBALANCERS and prov == c.PENDING_CREATE:
                record['operating_status'] = c.ONLINE
        return record

    @staticmethod
    def _cascade(c, lb, status):
        """A delete with ``cascade=true`` leaves the children to the
        provider: they go with the load balancer."""
        def gone(key, row):
            status[key][row.id] = {'id': row.id,
                                   'provisioning_status': c.DELETED}

        for listener in lb.listeners:
            gone(c.LISTENERS, listener)
            for policy in listener.l7policies:
                gone(c.L7POLICIES, policy)
                for rule in policy.l7rules:
                    gone(c.L7RULES, rule)
        for pool in lb.pools:
            gone(c.POOLS, pool)
            for member in pool.members:
                gone(c.MEMBERS, member)
            if pool.health_monitor:
                gone(c.HEALTHMONITORS, pool.health_monitor)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config-file', required=True)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--delay', type=float, default=1.0,
                        help='seconds before a pending object moves on')
    parser.add_argument('--threads', type=int, default=4)
    opts = parser.parse_args()
    config_file = os.path.abspath(opts.config_file)

    from gunicorn.app import base

    class Server(base.BaseApplication):
        """gunicorn without its command line; the app made in the worker
        (not preloaded), where the updater's thread must run."""

        def load_config(self):
            for key, value in (
                    ('bind', '127.0.0.1:%d' % opts.port),
                    ('workers', 1),   # one process: sqlite, the updater
                    ('worker_class', 'gthread'),
                    ('threads', opts.threads),
                    ('timeout', 120),
                    ('proc_name', 'octavia-api'),
                    ('control_socket_disable', True)):   # ~/.gunicorn
                self.cfg.set(key, value)

        def load(self):
            return make_app(config_file, opts.delay)

    Server().run()


if __name__ == '__main__':
    main()
