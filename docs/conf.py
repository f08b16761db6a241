"""Sphinx configuration for the PySOA documentation."""

import os
import sys


sys.path.insert(0, os.path.abspath('..'))

from pysoa.version import __version__


project = 'PySOA'
author = 'The PySOA 2 contributors'
copyright = '2026, The PySOA 2 contributors'
release = __version__
version = '.'.join(__version__.split('.')[:2])

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.intersphinx',
    'sphinx.ext.viewcode',
]
intersphinx_mapping = {'python': ('https://docs.python.org/3', None)}
autodoc_member_order = 'bysource'
exclude_patterns = ['_build']
html_theme = 'alabaster'
