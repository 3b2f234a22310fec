"""A task module with everything the allow rules tell apart (tests of functions.py).

Defined here, and so callable: ``plain``, ``decorated`` (functools.wraps), ``cached``
(functools.lru_cache), ``Record`` (a class), ``instance_callable``, and, with attribute paths,
``Record.describe``, ``Record.empty``, ``Record.add``, ``RECORD.describe``. Only imported or
builtin, and so refused: ``rmtree``, ``glob``, ``OrderedDict``, ``helper_function``,
``HelperClass``, ``alias``, ``undecorated`` (a wrapper without functools.wraps),
``CONFIG.update``, ``Derived.method``, ``helpers.helper_function``, ``os.getcwd``.
"""

from __future__ import annotations

import functools
import os  # noqa: F401 - reached through as "os.getcwd", which must be refused
from collections import OrderedDict  # noqa: F401 - an imported class
from glob import glob  # noqa: F401 - an imported function
from shutil import rmtree  # noqa: F401 - an imported function

import allow_rules_helpers as helpers  # noqa: F401 - a module object
from allow_rules_helpers import HelperClass, helper_function, plain_decorator, wrapping_decorator

CONFIG = {"mode": "test"}
alias = helper_function


def plain(x: object) -> object:
    return x


@wrapping_decorator
def decorated(x: int) -> int:
    return x * 2


@functools.lru_cache(maxsize=None)
def cached(x: int) -> int:
    return x + 1


@plain_decorator
def undecorated(x: object) -> object:
    return x


class Record(dict):
    """A class defined here; its instances are dicts, so they can be sent back."""

    def describe(self) -> str:
        return f"record of {len(self)}"

    @classmethod
    def empty(cls) -> "Record":
        return cls()

    @staticmethod
    def add(a: int, b: int) -> int:
        return a + b

    def _hidden(self) -> None:
        pass


class Derived(HelperClass):
    """Defined here, but its ``method`` was written in allow_rules_helpers."""


class _Callable:
    def __call__(self, x: object) -> object:
        return ["called", x]


RECORD = Record(a=1)
instance_callable = _Callable()


def _private() -> None:
    pass
