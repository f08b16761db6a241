"""The Prometheus tests need prometheus_client (dev-requirements.txt)."""

import importlib.util
from typing import List


collect_ignore_glob: List[str] = [] if importlib.util.find_spec('prometheus_client') else ['*.py']
