"""
Scripts that run in the virtualenv holding PySOA 1.4.9 (the original library), never in this project's: the server
runner and its service, and the client driver. Only ``wire_values`` is also imported by the tests, which is why it
uses nothing but the standard library, ``pytz`` and ``currint``.
"""
