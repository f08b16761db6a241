"""
The sample project's own ``conftest.py``: it puts the project's root on ``sys.path``, so that ``greeting_service``
imports when the tests run from another directory (the PySOA repository's own test run collects them too).
"""

import os
import sys


PROJECT_ROOT = os.path.dirname(os.path.abspath(__file__))

if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)
