"""The curated public namespace: ``connector.__all__`` and the error tree."""

from __future__ import annotations

import inspect
import re
import types

import pytest

import connector
import connector.errors


def _defined_in_connector(value: object) -> bool:
    module = getattr(value, "__module__", None) or ""
    return module == "connector" or module.startswith("connector.")


def test_every_name_in_all_can_be_imported() -> None:
    missing = [name for name in connector.__all__ if not hasattr(connector, name)]

    assert [] == missing


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from connector import *", namespace)
    namespace.pop("__builtins__")

    assert sorted(connector.__all__) == sorted(namespace)


def test_all_is_sorted_and_unique() -> None:
    assert sorted(set(connector.__all__)) == list(connector.__all__)


def test_all_lists_every_public_class_and_function_of_the_package_namespace() -> None:
    public = {
        name
        for name, value in vars(connector).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and (inspect.isclass(value) or inspect.isfunction(value))
        and _defined_in_connector(value)
    }

    assert set() == public - set(connector.__all__)


def test_version_is_a_dotted_release_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)*", connector.__version__)


# --------------------------------------------------------------------------- errors

_ERROR_CLASSES = {
    name: value
    for name, value in vars(connector.errors).items()
    if inspect.isclass(value)
    and issubclass(value, BaseException)
    and value.__module__ == "connector.errors"
}


def _drawn_tree() -> dict[str, str | None]:
    """Each class name drawn in the errors docstring, mapped to its drawn parent."""
    doc = connector.errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    root_column: int | None = None
    for line in doc.splitlines():
        match = re.match(r"^([\s│├└─]*)([A-Z]\w+)(?:\s|$)", line)
        if match is None or match.group(2) not in _ERROR_CLASSES:
            continue
        column = len(match.group(1))
        root_column = column if root_column is None else root_column
        depth = (column - root_column) // 4  # each level is drawn 4 characters deeper
        del stack[depth:]
        parents[match.group(2)] = stack[-1] if stack else None
        stack.append(match.group(2))
    return parents


def test_errors_all_lists_every_exception_class_in_the_module() -> None:
    assert sorted(_ERROR_CLASSES) == sorted(connector.errors.__all__)


def test_errors_all_is_sorted_and_unique() -> None:
    assert sorted(set(connector.errors.__all__)) == list(connector.errors.__all__)


@pytest.mark.parametrize("name", sorted(_ERROR_CLASSES))
def test_every_error_subclasses_connector_error(name: str) -> None:
    assert issubclass(_ERROR_CLASSES[name], connector.errors.ConnectorError)


def test_errors_docstring_draws_every_class_once() -> None:
    doc = connector.errors.__doc__ or ""
    drawn = _drawn_tree()

    assert sorted(_ERROR_CLASSES) == sorted(drawn)
    for name in _ERROR_CLASSES:
        assert 1 == len(re.findall(rf"[─\n ]{name}\s", doc)), name


def test_errors_docstring_tree_matches_the_class_hierarchy() -> None:
    drawn = _drawn_tree()

    assert {"ConnectorError": None} == {k: v for k, v in drawn.items() if v is None}
    for name, parent in drawn.items():
        if parent is not None:
            assert _ERROR_CLASSES[parent] in _ERROR_CLASSES[name].__bases__, (name, parent)


def test_public_errors_are_reexported_at_the_top_level() -> None:
    for name in ("ConnectorError", "ConfigError"):
        assert getattr(connector.errors, name) is getattr(connector, name)
