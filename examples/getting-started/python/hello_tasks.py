"""Task functions for the getting-started project: plain functions of plain values.

The Java side calls ``hello_tasks:greet`` through a worker pool; the worker imports this module
from the pool's module path (``python/``) and calls only what this module itself defines.
"""

import platform


def greet(names):
    """Returns a greeting for a list of names, saying which Python ran it."""
    if not names:
        raise ValueError("greet needs at least one name")
    if len(names) == 1:
        joined = names[0]
    else:
        joined = ", ".join(names[:-1]) + " and " + names[-1]
    return f"Hello, {joined}, from Python {platform.python_version()}!"
