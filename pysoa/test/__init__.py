"""Helpers for testing PySOA services and their callers: stubs, server test cases, assertions, pytest plugins."""
