"""An example PySOA service (under construction: see the issue tracker)."""
