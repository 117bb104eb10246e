"""Keystone's WSGI app for gunicorn.

Keystone parses ``sys.argv`` when its app loads; under gunicorn that is
gunicorn's command line and Keystone crash-loops. Reset argv first.
The config comes from OS_KEYSTONE_CONFIG_DIR.
"""
import sys

sys.argv = sys.argv[:1]

from keystone.server import wsgi  # noqa: E402

application = wsgi.initialize_public_application()
