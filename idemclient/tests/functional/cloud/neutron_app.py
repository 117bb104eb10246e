"""Neutron's API WSGI app for gunicorn, on a sqlite file built from models.

Neutron 29 has no ``neutron-server``: the API is ``neutron.wsgi.api``,
which reads its config files from OS_NEUTRON_CONFIG_DIR and
OS_NEUTRON_CONFIG_FILES. Like Keystone it parses ``sys.argv`` when it
loads (gunicorn's flags would make it exit), so reset argv first.

Neutron's alembic migrations are not sqlite-aware: the schema comes from
the models (as Neutron's own unit tests make it) when the database file
does not exist yet, and is stamped with the alembic heads so that
``neutron-db-manage current`` tells the truth. Done here, in the worker,
so that it runs in parallel with the rest of the cloud's start.
"""
import configparser
import os
import sys

sys.argv = sys.argv[:1]


def _ensure_schema():
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(os.path.join(os.environ['OS_NEUTRON_CONFIG_DIR'],
                           'neutron.conf'))
    url = conf['database']['connection']
    if os.path.exists(url[len('sqlite:///'):]):
        return
    import sqlalchemy as sa

    from neutron.db.migration.models import head

    engine = sa.create_engine(url)
    metadata = head.get_metadata()
    heads = _alembic_heads(head)
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(sa.text(
            'CREATE TABLE IF NOT EXISTS alembic_version '
            '(version_num VARCHAR(32) NOT NULL PRIMARY KEY)'))
        for rev in heads:
            conn.execute(sa.text('INSERT INTO alembic_version VALUES (:r)'),
                         {'r': rev})
    engine.dispose()


def _alembic_heads(head):
    """The revisions ``neutron-db-manage upgrade heads`` would reach: the
    CONTRACT_HEAD and EXPAND_HEAD files shipped with the migrations."""
    versions = os.path.join(os.path.dirname(os.path.dirname(head.__file__)),
                            'alembic_migrations', 'versions')
    return [open(os.path.join(versions, name)).read().strip()
            for name in ('CONTRACT_HEAD', 'EXPAND_HEAD')]


def _no_segment_reports():
    """The first network delete makes Neutron instantiate its segments
    plugin even though it is not configured (neutron.services.segments.db
    ``_delete_segments_for_network``), and from then on every deleted
    network queues a report to Placement and Nova about routed-network
    segment inventories. There is neither here (no [placement] or [nova]
    credentials, no routed networks): each report died in a background
    thread with a MissingAuthPlugin traceback on stderr. Drop them."""
    from neutron.services.segments import plugin

    plugin.NovaSegmentNotifier._send_notifications = lambda self, ev: None


_ensure_schema()
_no_segment_reports()

from neutron.wsgi.api import application  # noqa: E402,F401
