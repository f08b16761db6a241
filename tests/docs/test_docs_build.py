"""
The documentation builds with Sphinx with warnings treated as errors (``-W``), and its settings reference lists every
setting of the client, the server and the local and Redis transports, with its default.
"""

import html.parser
import pathlib
import subprocess
import sys
from typing import (
    Any,
    Dict,
    Hashable,
    List,
    Mapping,
    Optional,
    Tuple,
    cast,
)

import pytest
from conformity import fields

from pysoa.client.settings import ClientSettings
from pysoa.common.transport.local import LocalClientTransportSchema
from pysoa.common.transport.redis_gateway.settings import (
    RedisClientTransportSchema,
    RedisServerTransportSchema,
)
from pysoa.server.settings import ServerSettings


pytest.importorskip('sphinx', reason='Sphinx is not installed (pip install -r dev-requirements.txt)')

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

Table = Dict[str, List[str]]
"""The rows of one settings table: setting path to ``[type, default, description]``."""


def _setting_names(schema: Mapping[Hashable, Any]) -> List[str]:
    """The names of the settings of a schema, sorted (settings are named by strings)."""
    return sorted(cast(str, name) for name in schema)


class _SettingsTables(html.parser.HTMLParser):
    """Collects the settings tables of the settings page, by the id of their container."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: Dict[str, Table] = {}
        self._table: Optional[Table] = None
        self._depth = 0
        self._row: Optional[List[str]] = None
        self._cell: Optional[List[str]] = None

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        attributes = dict(attrs)
        if tag == 'div':
            if self._table is not None:
                self._depth += 1
            elif 'settings-reference' in (attributes.get('class') or '').split():
                self._table = self.tables.setdefault(attributes.get('id') or '', {})
                self._depth = 1
        elif self._table is not None and tag == 'tr':
            self._row = []
        elif self._row is not None and tag == 'td':
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == 'div' and self._table is not None:
            self._depth -= 1
            if not self._depth:
                self._table = None
        elif tag == 'td' and self._cell is not None and self._row is not None:
            self._row.append(' '.join(''.join(self._cell).split()))
            self._cell = None
        elif tag == 'tr' and self._row is not None and self._table is not None:
            if self._row:
                self._table[self._row[0]] = self._row[1:]
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope='module')
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    output = tmp_path_factory.mktemp('docs') / 'html'
    result = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-E', '-q', '-b', 'html', 'docs', str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, f'The documentation build failed:\n{result.stdout}\n{result.stderr}'
    return output


@pytest.fixture(scope='module')
def settings_tables(built_docs: pathlib.Path) -> Dict[str, Table]:
    parser = _SettingsTables()
    parser.feed((built_docs / 'settings.html').read_text(encoding='utf-8'))
    return parser.tables


def test_the_documentation_builds_without_warnings(built_docs: pathlib.Path) -> None:
    for page in (
        'index',
        'getting_started',
        'settings',
        'protocol',
        'testing',
        'deploying',
        'migration',
        'guide/client_call_styles',
        'api/client',
        'api/server',
    ):
        assert (built_docs / f'{page}.html').is_file(), page


@pytest.mark.parametrize(
    ('table_id', 'keys'),
    [
        ('settings-clientsettings', _setting_names(ClientSettings.schema)),
        ('settings-serversettings', _setting_names(ServerSettings.schema)),
        ('settings-localclienttransportschema', _setting_names(LocalClientTransportSchema.contents)),
        ('settings-redisclienttransportschema', _setting_names(RedisClientTransportSchema.contents)),
        ('settings-redisservertransportschema', _setting_names(RedisServerTransportSchema.contents)),
        (
            'settings-backendlayerschema',
            _setting_names(
                cast(fields.Dictionary, RedisClientTransportSchema.contents['backend_layer_kwargs']).contents,
            ),
        ),
    ],
)
def test_the_settings_reference_lists_every_setting_with_its_default(
    settings_tables: Dict[str, Table],
    table_id: str,
    keys: List[str],
) -> None:
    table = settings_tables[table_id]
    assert keys, table_id
    for key in keys:
        assert key in table, f'{key} is missing from {table_id}'
        setting_type, default, _description = table[key]
        assert setting_type, f'{key} has no type in {table_id}'
        assert default, f'{key} has no default in {table_id}'


@pytest.mark.parametrize(
    ('table_id', 'key', 'default'),
    [
        ('settings-redisclienttransportschema', 'backend_type', 'required'),
        ('settings-redisclienttransportschema', 'maximum_message_size_in_bytes', '102400'),
        ('settings-redisclienttransportschema', 'log_messages_larger_than_bytes', '102400'),
        ('settings-redisclienttransportschema', 'message_expiry_in_seconds', '60'),
        ('settings-redisclienttransportschema', 'queue_capacity', '10000'),
        ('settings-redisclienttransportschema', 'queue_full_retries', '10'),
        ('settings-redisclienttransportschema', 'receive_timeout_in_seconds', '5'),
        ('settings-redisclienttransportschema', 'protocol_version', '3'),
        ('settings-redisservertransportschema', 'maximum_message_size_in_bytes', '256000'),
        ('settings-redisservertransportschema', 'log_messages_larger_than_bytes', '256000'),
        ('settings-redisservertransportschema', 'message_expiry_in_seconds', '60'),
        ('settings-redisservertransportschema', 'chunk_messages_larger_than_bytes', '-1 (no chunking)'),
        ('settings-localclienttransportschema', 'server_class', 'required'),
        ('settings-localclienttransportschema', 'server_settings', 'required'),
        ('settings-serversettings', 'harakiri.timeout', '300'),
        ('settings-serversettings', 'harakiri.shutdown_grace', '30'),
        ('settings-serversettings', 'request_log_success_level', "'INFO'"),
        ('settings-clientsettings', 'middleware', '[]'),
    ],
)
def test_the_settings_reference_shows_the_defaults_the_code_applies(
    settings_tables: Dict[str, Table],
    table_id: str,
    key: str,
    default: str,
) -> None:
    assert settings_tables[table_id][key][1] == default
