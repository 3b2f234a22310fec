"""Resolution of ``"module:name"`` against the host's allow list (section 3).

What a call may name:

- ``module`` must be on the allow list (``--allow``): an exact module name, or ``pkg.*`` for
  ``pkg`` and every submodule below it. This is checked on the *name*, before anything is
  imported, so a call to a module outside the list cannot run that module's import-time code.
- ``name`` is a single public attribute of the module (no leading ``_``), and what it names
  must be callable and *defined in an allowed module*: its ``__module__`` must itself be
  allowed. Functions and classes written in the module qualify, and so do functions decorated
  with ``functools.wraps`` (which copies ``__module__``). What the module merely imports does
  not: ``from shutil import rmtree`` makes ``"mod:rmtree"`` a name in ``mod`` but not a task
  of it, and neither is an imported class. Module objects are never callable here.
- Attribute paths (``"module:Class.method"``, ``"module:obj.method"``) are refused unless the
  worker runs with ``--allow-attribute-paths``. With it, every step must be a public name and
  none may be a module object (``"tasks:os.system"`` would reach ``os`` through a module that
  imports it), and the callable reached must still be defined in an allowed module: for a bound
  method, its function's ``__module__`` (``__func__.__module__``). Methods of builtin types such
  as ``dict.update`` (``"mod:CONFIG.update"``) have no such module and stay refused.

Note that walking a path runs ``getattr`` on each step, so properties of objects in an allowed
module run before the final check; only public names of allowed modules' objects are reached.
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


def defining_module(obj: object) -> str | None:
    """The module a callable was defined in: ``__module__``, or for a bound method that of its
    function; None when there is none (builtins' methods) or it is not a string."""
    try:
        if isinstance(obj, types.MethodType):  # bound method or classmethod: its function
            obj = obj.__func__
        module = getattr(obj, "__module__", None)
    except Exception:  # an object whose attribute lookup fails has no module to show
        return None
    return module if isinstance(module, str) else None


class Functions:
    """Resolves and caches task functions for one worker."""

    def __init__(self, allow: AllowList, attribute_paths: bool = False) -> None:
        self.allow = allow
        self.attribute_paths = attribute_paths
        self._cache: dict[str, Callable] = {}

    def resolve(self, name: str) -> Callable:
        fn = self._cache.get(name)
        if fn is not None:
            return fn
        module_name, attrs = split_function(name)
        if not self.allow.allows(module_name):
            raise NotAllowed(f"module {module_name!r} is not allowed in this worker")
        if len(attrs) > 1 and not self.attribute_paths:
            raise NotAllowed(
                f"{name!r}: attribute paths are not allowed in this worker "
                "(name a function or class of the module)"
            )
        for attr in attrs:  # before the import: a refused name imports nothing
            if attr.startswith("_"):
                raise NotAllowed(f"{name!r}: private attribute {attr!r} cannot be called")
        obj: object = importlib.import_module(module_name)
        for attr in attrs:
            obj = getattr(obj, attr)
            if isinstance(obj, types.ModuleType):
                raise NotAllowed(f"{name!r}: {attr!r} is a module; call through its own name")
        if not callable(obj):
            raise TypeError(f"{name!r} is not callable")
        defined_in = defining_module(obj)
        if defined_in is None or not self.allow.allows(defined_in):
            where = "has no module" if defined_in is None else f"is defined in {defined_in!r}"
            raise NotAllowed(
                f"{name!r} {where}, which is not allowed in this worker "
                "(only what allowed modules define can be called, not what they import)"
            )
        self._cache[name] = obj
        return obj
