"""The auto-reloader (``--use-file-watcher``) in the server process it starts: running the server function."""

from typing import (
    Any,
    Dict,
    List,
    Tuple,
)

import pytest

from pysoa.server.autoreload import get_reloader


def test_main_in_the_server_process_treats_none_args_and_kwargs_as_no_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv('PYSOA_RELOADER_RUN_MAIN', 'true')
    calls: List[Tuple[Tuple[Any, ...], Dict[str, Any]]] = []
    reloader = get_reloader('some_service', ['no_module_is_watched'])

    with pytest.raises(SystemExit) as exc_info:
        reloader.main(lambda *args, **kwargs: calls.append((args, kwargs)), None, None)

    assert calls == [((), {})]
    assert exc_info.value.code == 0
