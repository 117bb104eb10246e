"""Sphinx configuration: the builtin theme, no network, and the command
reference rendered from the code (cliff's autoprogram-cliff, plus a local
directive for the options idemclient's hooks add to OSC's commands)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '_exts'))

project = 'idemclient'
author = 'idemclient developers'
copyright = '2026, idemclient developers'

extensions = [
    'cliff.sphinxext',
    'hook_options',
    'sphinx.ext.autodoc',
]

# The Python API's page reads its signatures and docstrings from the code.
autodoc_member_order = 'bysource'

# autoprogram-cliff: commands are shown as "openstack <command>".
autoprogram_cliff_application = 'openstack'

root_doc = 'index'
exclude_patterns = []
# Option names must stay as typed: no "--" turned into a dash.
smartquotes = False
html_theme = 'alabaster'
html_theme_options = {'nosidebar': False}
html_static_path = []
html_show_sourcelink = False
pygments_style = 'sphinx'
