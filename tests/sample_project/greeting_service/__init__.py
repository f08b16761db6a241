"""The greeting service: greets people, and the users of the ``user`` service by their ID."""
