"""Sphinx configuration for the PySOA documentation (built with ``-W`` in the test suite: warnings are errors)."""

import os
import sys
from typing import (
    Any,
    Optional,
)


# After sys.path[0], not before it: pysoa.server.standalone refuses to be imported when sys.path[0] looks like the
# directory of a script run by path (its double-import guard), and the documentation imports it.
sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)), '_ext'))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pysoa.version import __version__


project = 'PySOA'
author = 'The PySOA 2 contributors'
copyright = '2026, The PySOA 2 contributors'
release = __version__
version = '.'.join(__version__.split('.')[:2])

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.viewcode',
    'optional_autodoc',
    'settings_reference',
]

# The build must work offline (it runs in the test suite), so there is no intersphinx.
exclude_patterns = ['_build']
templates_path = []
root_doc = 'index'
default_role = 'literal'
pygments_style = 'sphinx'

autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
autodoc_typehints_description_target = 'documented'
autodoc_inherit_docstrings = True

html_theme = 'alabaster'
html_title = f'PySOA {release}'
html_theme_options = {
    'description': 'Fast Python (micro)services and their clients',
    'fixed_sidebar': True,
    'page_width': '1100px',
    'sidebar_width': '240px',
}
html_static_path = []
html_show_sourcelink = False


def _skip_generated_members(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> Optional[bool]:
    """Leave out methods made by factory functions (the unittest assertions of ``PyTestServerTestCase``)."""
    if '<locals>' in getattr(obj, '__qualname__', ''):
        return True
    return None


def setup(app: Any) -> None:
    app.connect('autodoc-skip-member', _skip_generated_members)
