"""One cache of botocore's parsed service models for the whole test process.

Each botocore session has its own `Loader`, and each Loader parses the JSON models of the
services it makes clients for (s3's alone is megabytes): about 0.45 s per session. The scripts
make a session per run, and the tests run the scripts in-process hundreds of times, so without
this the suite spends minutes parsing the same files. Within one session botocore already
shares what its Loader parsed between all its clients (`botocore.loaders.instance_cache`);
here every Loader of the process shares it, keyed by its search paths and extras, which fix
what it would load. Nothing the scripts do differs: they still make one session per run.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore import loaders

_SHARED: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


class _SharedCache:
    """What `instance_cache` sees as `loader._cache`: the process-wide cache, under keys
    that name the loader's search paths and extras types."""

    def __init__(self, loader: loaders.Loader) -> None:
        self._loader = loader

    def _key(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        loader = self._loader
        return (tuple(loader.search_paths), tuple(loader.extras_types), *key)

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        with _LOCK:
            return self._key(key) in _SHARED

    def __getitem__(self, key: tuple[Any, ...]) -> Any:
        with _LOCK:
            return _SHARED[self._key(key)]

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        with _LOCK:
            _SHARED.setdefault(self._key(key), value)


def share_parsed_models() -> None:
    """From now on every botocore Loader of this process shares one cache."""
    if getattr(loaders.Loader, "_shares_parsed_models", False):
        return
    original = loaders.Loader.__init__

    def init(self: loaders.Loader, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._cache = _SharedCache(self)

    loaders.Loader.__init__ = init  # type: ignore[method-assign]
    loaders.Loader._shares_parsed_models = True  # type: ignore[attr-defined]
