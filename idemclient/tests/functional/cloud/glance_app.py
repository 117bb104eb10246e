"""Glance's API WSGI app for gunicorn, on a sqlite file that
``glance-manage db_sync`` builds in the worker first.

Glance 33 has no standalone server (``glance-api`` exits: "Deploy Glance
under a WSGI server"): the API is ``glance.wsgi.api``, which reads
OS_GLANCE_CONFIG_DIR/glance-api.conf and parses no argv. The schema comes
from Glance's own alembic migrations, run by glance-manage's ``main`` here
rather than in a process of its own: its imports are mostly the app's, so
the worker pays ~0.6 s for what costs ~3 s of CPU as a separate command
while the rest of the cloud starts.
"""
import configparser
import os
import sys


def _db_sync():
    conf = os.path.join(os.environ['OS_GLANCE_CONFIG_DIR'], 'glance-api.conf')
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(conf)
    if os.path.exists(parser['database']['connection'][len('sqlite:///'):]):
        return
    from glance.cmd import manage

    argv = sys.argv
    sys.argv = ['glance-manage', '--config-file', conf, 'db_sync']
    try:
        manage.main()
    finally:
        sys.argv = argv
        # the app parses the same global CONF again, without the
        # subcommand glance-manage registered
        manage.CONF.clear()
        manage.CONF.unregister_opt(manage.command_opt)


def _serialize_sqlite_transactions():
    """Every transaction takes sqlite's write lock when it begins (``BEGIN
    IMMEDIATE``), waiting its turn, instead of upgrading a read lock
    later: two of the worker's threads upgrading at once get "database is
    locked" at once, whatever the busy timeout (seen: Nova's delete of a
    failed snapshot's image refused with a 500 while a reservation was
    written). oslo.db emits a plain ``BEGIN`` itself unless one was
    emitted (its ``in_transaction`` mark); a listener on the Engine class
    runs before its listener on the engine. MySQL has no such case."""
    from sqlalchemy.engine import Engine
    from sqlalchemy import event

    @event.listens_for(Engine, 'begin')
    def _begin_immediate(connection):
        if connection.dialect.name == 'sqlite' and \
                'in_transaction' not in connection.info:
            connection.exec_driver_sql('BEGIN IMMEDIATE')
            connection.info['in_transaction'] = True


_db_sync()  # alembic's own transactions first, as they are
_serialize_sqlite_transactions()

from glance.wsgi.api import application  # noqa: E402,F401
