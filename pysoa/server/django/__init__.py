"""Integration with Django: database connection and cache handling around each request."""
