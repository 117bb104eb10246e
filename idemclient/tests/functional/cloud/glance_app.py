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


_db_sync()

from glance.wsgi.api import application  # noqa: E402,F401
