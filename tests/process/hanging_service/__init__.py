"""
The sample service with ways to hang that harakiri cannot interrupt: blocked in C code with its signals masked, in a
request or at start-up. For the tests of the ``--fork`` supervisor's hung-worker handling.
"""
