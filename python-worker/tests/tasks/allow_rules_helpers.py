"""Never on an allow list in the allow-rule tests: what ``allow_rules_tasks`` imports from here
is a name in that module, not a task of it, and must not be callable through it."""

from __future__ import annotations

import functools
from typing import Any, Callable


def helper_function() -> str:
    return "helper"


class HelperClass:
    def method(self) -> str:
        return "helper method"


def wrapping_decorator(fn: Callable) -> Callable:
    """A decorator defined here that keeps the decorated function's identity (functools.wraps)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return ["wrapped", fn(*args, **kwargs)]

    return wrapper


def plain_decorator(fn: Callable) -> Callable:
    """A decorator defined here that does not: its wrapper belongs to this module."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper
