"""Exceptions that travel to the host under a fixed protocol ``type`` name.

Errors raised by task code are reported under their Python class name; the worker's own
errors carry a ``wire_type`` so the host sees the names the protocol defines
(``"NotAllowed"``, ``"ProtocolError"``, ``"Cancelled"``) rather than a Python module path.
"""

from __future__ import annotations

import builtins


class WireError(Exception):
    """Base of the worker's own call errors; ``wire_type`` is the protocol ``type``."""

    wire_type = "Error"


class ProtocolError(WireError):
    """A well-formed frame whose call fields or values are malformed (error of that call)."""

    wire_type = "ProtocolError"


class NotAllowed(WireError):
    """The called function is outside the allow list (raised before any import)."""

    wire_type = "NotAllowed"


class Cancelled(BaseException):
    """Raised in the execution thread when the host cancels the running call.

    A ``BaseException`` so that a task's ``except Exception:`` does not swallow it.
    """

    wire_type = "Cancelled"


def type_name(exc: BaseException) -> str:
    """The protocol ``type`` of an exception: its wire type, bare builtin name or qualified name."""
    cls = type(exc)
    wire = getattr(cls, "wire_type", None)
    if isinstance(wire, str) and cls.__module__.startswith("open_worker"):
        return wire
    module = cls.__module__
    if module == "builtins" and getattr(builtins, cls.__qualname__, None) is cls:
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"
