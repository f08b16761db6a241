"""Naming helpers of the Redis gateway transport."""

__all__ = ('make_redis_queue_name',)


def make_redis_queue_name(service_name: str) -> str:
    """The name of the queue a service's servers receive requests on (Redis key ``pysoa:service.<service_name>``)."""
    return f'service.{service_name}'
