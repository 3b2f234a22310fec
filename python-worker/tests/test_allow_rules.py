"""What a call may name (functions.py): ``module:name`` of something the allowed module defines;
attribute paths only with ``--allow-attribute-paths``. The subject is tasks/allow_rules_tasks.py."""

from __future__ import annotations

import sys

import pytest

from open_worker.errors import NotAllowed, ProtocolError
from open_worker.functions import AllowList, Functions

TASKS = "allow_rules_tasks"


def functions(*allow: str, paths: bool = False) -> Functions:
    return Functions(AllowList(allow or (TASKS,)), attribute_paths=paths)


@pytest.mark.parametrize("paths", [False, True])
def test_what_the_module_defines_is_callable(paths):
    f = functions(paths=paths)
    assert f.resolve(f"{TASKS}:plain")(3) == 3
    assert f.resolve(f"{TASKS}:decorated")(4) == ["wrapped", 8]  # functools.wraps keeps __module__
    assert f.resolve(f"{TASKS}:cached")(1) == 2  # functools.lru_cache too
    record = f.resolve(f"{TASKS}:Record")(a=1)  # a class defined in the module
    assert record == {"a": 1} and type(record).__name__ == "Record"
    assert f.resolve(f"{TASKS}:instance_callable")(5) == ["called", 5]


@pytest.mark.parametrize("paths", [False, True])
@pytest.mark.parametrize("name", [
    "rmtree",  # from shutil import rmtree
    "glob",  # from glob import glob
    "OrderedDict",  # an imported class
    "helper_function",  # imported from a module that is not allowed
    "HelperClass",
    "alias",  # an imported function under another name
    "undecorated",  # wrapped by a decorator without functools.wraps: the wrapper is not ours
])
def test_what_the_module_imports_is_refused(name, paths):
    with pytest.raises(NotAllowed, match="defined in|no module"):
        functions(paths=paths).resolve(f"{TASKS}:{name}")


def test_an_imported_function_of_an_allowed_module_is_callable():
    # The rule is where a callable was defined, not how it was reached.
    f = functions(TASKS, "allow_rules_helpers")
    assert f.resolve(f"{TASKS}:helper_function")() == "helper"
    assert f.resolve(f"{TASKS}:alias")() == "helper"
    with pytest.raises(NotAllowed):
        functions(TASKS, "collections").resolve(f"{TASKS}:rmtree")


@pytest.mark.parametrize("name", ["Record.describe", "Record.empty", "Record.add", "RECORD.describe",
                                  "CONFIG.update", "os.getcwd", "helpers.helper_function"])
def test_attribute_paths_are_refused_by_default(name):
    with pytest.raises(NotAllowed, match="attribute paths"):
        functions().resolve(f"{TASKS}:{name}")


def test_attribute_paths_when_allowed():
    f = functions(paths=True)
    assert f.resolve(f"{TASKS}:Record.add")(2, 3) == 5  # staticmethod: a plain function of ours
    assert f.resolve(f"{TASKS}:Record.empty")() == {}  # classmethod: bound, __func__ is ours
    assert f.resolve(f"{TASKS}:RECORD.describe")() == "record of 1"  # bound method of an instance
    assert f.resolve(f"{TASKS}:Record.describe")({"x": 1}) == "record of 1"


@pytest.mark.parametrize("name, why", [
    ("CONFIG.update", "no module"),  # a builtin method of a dict defined in the module
    ("RECORD.keys", "no module"),  # inherited from dict
    ("Record.keys", "no module"),  # dict.keys, a method descriptor
    ("Derived.method", "allow_rules_helpers"),  # inherited from an imported class
    ("os.getcwd", "is a module"),
    ("helpers.helper_function", "is a module"),
    ("Record._hidden", "private"),
    ("Record.__init__", "private"),
])
def test_attribute_paths_still_need_a_callable_defined_in_an_allowed_module(name, why):
    with pytest.raises(NotAllowed, match=why):
        functions(paths=True).resolve(f"{TASKS}:{name}")


def test_names_are_checked_before_the_module_is_imported(tmp_path, monkeypatch):
    marker = tmp_path / "imported.txt"
    monkeypatch.setenv("SIDE_EFFECT_MARKER", str(marker))
    monkeypatch.delitem(sys.modules, "side_effect_task", raising=False)
    f = functions("side_effect_task")
    for name in ("side_effect_task:touch.__call__", "side_effect_task:_private", "side_effect_task:a.b"):
        with pytest.raises(NotAllowed):
            f.resolve(name)
    assert not marker.exists()
    assert f.resolve("side_effect_task:touch")() == "called" and marker.exists()
    sys.modules.pop("side_effect_task", None)


def test_private_names_modules_and_non_callables():
    f = functions(paths=True)
    with pytest.raises(NotAllowed, match="private"):
        f.resolve(f"{TASKS}:_private")
    with pytest.raises(TypeError, match="not callable"):
        f.resolve(f"{TASKS}:CONFIG")
    with pytest.raises(AttributeError):
        f.resolve(f"{TASKS}:missing")
    with pytest.raises(ProtocolError):
        f.resolve(f"{TASKS}:Record.")


def test_a_refused_name_stays_refused():
    f = functions()
    for _ in range(2):  # not cached as allowed after the first refusal
        with pytest.raises(NotAllowed):
            f.resolve(f"{TASKS}:rmtree")
