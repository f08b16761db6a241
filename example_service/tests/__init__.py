"""The example service's tests."""
