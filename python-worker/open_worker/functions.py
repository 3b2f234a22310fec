"""Resolution of ``"module:attr.path"`` names against the host's allow list (section 3).

The allow list is checked on the *name* before anything is imported, so a call to a module
outside it cannot run that module's import-time code. Entries are exact module names or
``pkg.*``, which allows ``pkg`` and every submodule below it.

The attribute path may not reach outside the allowed module through it: every step must be a
public name (no leading ``_``) and no step may land on a module object. Otherwise
``"tasks:os.system"`` would reach ``os`` through a module that merely imports it.
"""

from __future__ import annotations

import importlib
import types
from typing import Callable, Iterable

from .errors import NotAllowed, ProtocolError


class AllowList:
    """The modules a worker may import for calls (``--allow`` values)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.exact: set[str] = set()
        self.packages: set[str] = set()
        for pattern in patterns:
            if pattern.endswith(".*"):
                self.packages.add(_check_module(pattern[:-2]))
            else:
                self.exact.add(_check_module(pattern))

    def allows(self, module: str) -> bool:
        if module in self.exact:
            return True
        parts = module.split(".")
        return any(".".join(parts[:i]) in self.packages for i in range(1, len(parts) + 1))


def _check_module(name: str) -> str:
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise ValueError(f"not a module name: {name!r}")
    return name


def split_function(name: str) -> tuple[str, list[str]]:
    """``"pkg.mod:Class.method"`` -> ``("pkg.mod", ["Class", "method"])``."""
    module, sep, path = name.partition(":")
    attrs = path.split(".")
    if (
        not sep
        or not module
        or not all(p.isidentifier() for p in module.split("."))
        or not all(a.isidentifier() for a in attrs)
    ):
        raise ProtocolError(f"function {name!r} is not of the form 'module:attribute'")
    return module, attrs


class Functions:
    """Resolves and caches task functions for one worker."""

    def __init__(self, allow: AllowList) -> None:
        self.allow = allow
        self._cache: dict[str, Callable] = {}

    def resolve(self, name: str) -> Callable:
        fn = self._cache.get(name)
        if fn is not None:
            return fn
        module_name, attrs = split_function(name)
        if not self.allow.allows(module_name):
            raise NotAllowed(f"module {module_name!r} is not allowed in this worker")
        obj: object = importlib.import_module(module_name)
        for attr in attrs:
            if attr.startswith("_"):
                raise NotAllowed(f"{name!r}: private attribute {attr!r} cannot be called")
            obj = getattr(obj, attr)
            if isinstance(obj, types.ModuleType):
                raise NotAllowed(f"{name!r}: {attr!r} is a module; call through its own name")
        if not callable(obj):
            raise TypeError(f"{name!r} is not callable")
        self._cache[name] = obj
        return obj
