"""
A service for the ``pysoa`` command's end-to-end tests, configured the twelve-factor way: its settings come from the
``PYSOA_REDIS_URL`` environment variable, with no transport settings code.
"""
