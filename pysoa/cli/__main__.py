"""``python -m pysoa.cli``: the ``pysoa`` command, where its console script is not on the ``PATH``."""

import sys

from pysoa.cli import main


if __name__ == '__main__':
    sys.exit(main())
