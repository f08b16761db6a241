"""
The metrics catalogue of the documentation (``docs/observability.rst``) names every metric PySOA records: each metric
name written in the library's code, for which it looks through the source.
"""

import pathlib
import re
from typing import List

import pytest


REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
CATALOGUE = REPO_ROOT / 'docs' / 'observability.rst'

# The literal name (or the literal part after a prefix) given to a recorder's counter/timer/gauge/histogram, to the
# transports' _counter/_timer helpers, or to the supervisor's count.
_RECORDING = re.compile(
    r"""(?:metrics\.(?:counter|timer|gauge|histogram)\(\s*(?:[\w.]+\s*\+\s*)?|\b_(?:counter|timer)\(\s*|\.count\(\s*)"""
    r"""f?'([a-z_]+\.[a-z_.{} +0-9]+)'""",
)


def _recorded_metric_names() -> List[str]:
    names = set()
    for path in (REPO_ROOT / 'pysoa').rglob('*.py'):
        if 'contrib' not in path.relative_to(REPO_ROOT).parts:
            names.update(_RECORDING.findall(path.read_text(encoding='utf-8')))
    return sorted(names)


def test_the_source_records_metrics_this_test_can_find() -> None:
    assert {'server.worker.busy', 'client.send.including_middleware', 'send.message_size'} <= set(
        _recorded_metric_names(),
    )


@pytest.mark.parametrize('name', _recorded_metric_names())
def test_the_catalogue_lists_every_metric_the_library_records(name: str) -> None:
    documented = name.split('{')[0]  # 'send.queue_full_retry.retry_{attempt + 1}' is documented as '...retry_N'

    assert f'``{documented}' in CATALOGUE.read_text(encoding='utf-8'), (
        f'The metric {name} is recorded but not in the metrics catalogue of {CATALOGUE.relative_to(REPO_ROOT)}'
    )
