"""
A Sphinx extension for API pages of modules that need optional dependencies (Django, factory_boy, pytest, ...) or
that are not part of every checkout yet.

``.. optional-automodule:: package.module`` takes the options of ``automodule`` and behaves like it when the module
imports. When the module, or something it needs, is not installed, it renders a short note saying so instead of
failing the build; any other import failure is reported as usual.
"""

import importlib
from typing import (
    Any,
    Dict,
    List,
)

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective


_logger = logging.getLogger(__name__)


class OptionalAutomodule(SphinxDirective):
    """The ``optional-automodule`` directive."""

    required_arguments = 1
    has_content = False
    option_spec = {
        'members': directives.unchanged,
        'undoc-members': directives.flag,
        'show-inheritance': directives.flag,
        'exclude-members': directives.unchanged,
        'member-order': directives.unchanged,
    }

    def run(self) -> List[nodes.Node]:
        module_name = self.arguments[0]
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            _logger.info('optional-automodule: skipping %s (%s)', module_name, e)
            note = nodes.note()
            note += nodes.paragraph(
                text=f'The reference of {module_name} could not be generated in this build of the documentation, '
                f'because a module it needs is not installed ({e}).',
            )
            return [note]

        lines = [f'.. automodule:: {module_name}']
        for option, value in self.options.items():
            lines.append(f'   :{option}: {value}' if value else f'   :{option}:')
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=self.get_source_info()[0]), self.content_offset, container)
        return list(container.children)


def setup(app: Sphinx) -> Dict[str, Any]:
    app.setup_extension('sphinx.ext.autodoc')
    app.add_directive('optional-automodule', OptionalAutomodule)
    return {'version': '1.0', 'parallel_read_safe': True, 'parallel_write_safe': True}
