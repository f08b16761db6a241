"""Putting the fork id of a worker process into its metrics publisher configuration."""

from typing import Any


__all__ = ('apply_fork_id_to_metrics_settings',)

_MARKERS = ('{{fid}}', '[[fid]]', '%%fid%%')


def apply_fork_id_to_metrics_settings(metrics_settings: Any, fork_id: str) -> None:
    """
    Replace the markers ``{{fid}}``, ``[[fid]]`` and ``%%fid%%`` in the string values of the metrics publisher
    configuration (``metrics.kwargs.config.publishers``) with ``fork_id``, so that each forked worker can, for
    example, write to its own file. For a PyMetrics ``version: 1`` configuration the publisher dicts themselves are
    templated, otherwise each publisher's ``kwargs``. Changes the settings in place.
    """
    try:
        config = metrics_settings['kwargs']['config']
        publishers = config['publishers']
    except (KeyError, TypeError):
        return
    if not isinstance(publishers, list):
        return
    templating_whole_publisher = isinstance(config, dict) and config.get('version') == 1
    for publisher in publishers:
        if not isinstance(publisher, dict):
            continue
        target = publisher if templating_whole_publisher else publisher.get('kwargs')
        if isinstance(target, dict):
            _replace_in_place(target, fork_id)


def _replace_in_place(values: dict, fork_id: str) -> None:  # type: ignore[type-arg]
    for key, value in values.items():
        if isinstance(value, str):
            for marker in _MARKERS:
                value = value.replace(marker, fork_id)
            values[key] = value
        elif isinstance(value, dict):
            _replace_in_place(value, fork_id)
