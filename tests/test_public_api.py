"""The curated public namespace: ``connector.__all__`` and the error tree."""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import types
import typing
from pathlib import Path

import attrs
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


@pytest.mark.parametrize("name", sorted(_ERROR_CLASSES))
def test_every_error_is_reexported_at_the_top_level(name: str) -> None:
    # docs name them as ``connector.X`` (``async with Connector(...)`` raises StoreError).
    assert getattr(connector.errors, name) is getattr(connector, name)
    assert name in connector.__all__


def test_the_architecture_doc_draws_the_tree_the_docstring_draws() -> None:
    doc = connector.errors.__doc__ or ""
    drawn = doc[doc.index("    ConnectorError\n") : doc.index("\n\n``RateLimited``")]
    tree = "\n".join(line[4:] for line in drawn.splitlines())
    text = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
    assert f"```\n{tree}\n```" in text


def _exception_classes_outside_errors() -> set[tuple[str, str]]:
    """(file, class) for every class in connector/ but errors.py that derives an exception.

    The simulator (``connector/sim/``) is a program of its own: its front-ends raise
    private exceptions that carry a venue's error code to the reply they become, and
    none reaches a caller of the library, so it is left out.

    Read from source, so a class is found however it is imported: its bases are
    compared by name with the builtin exceptions, connector's errors and (until
    nothing changes) the classes already found.
    """
    root = Path(connector.__file__).resolve().parent
    known = {
        name
        for name, value in vars(builtins).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    } | set(connector.errors.__all__)
    classes: list[tuple[str, str, set[str]]] = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "errors.py" or (root / "sim") in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else b.attr
                    for b in node.bases
                    if isinstance(b, ast.Name | ast.Attribute)
                }
                classes.append((str(path.relative_to(root.parent)), node.name, bases))
    found: set[tuple[str, str]] = set()
    while True:
        more = {(f, name) for f, name, bases in classes if bases & known} - found
        if not more:
            return found
        found |= more
        known |= {name for _, name in more}


def test_no_exception_class_lives_outside_errors() -> None:
    assert set() == _exception_classes_outside_errors()


# --------------------------------------------------------------------------- reachable types


def _connector_types(annotation: object, seen: set[type]) -> None:
    """Every class of ours that ``annotation`` names, followed into attrs fields."""
    for arg in typing.get_args(annotation):
        _connector_types(arg, seen)
    origin = typing.get_origin(annotation)
    cls = annotation if origin is None else origin
    if not inspect.isclass(cls) or cls in seen or not _defined_in_connector(cls):
        return
    seen.add(cls)
    if attrs.has(cls):
        for hint in typing.get_type_hints(cls).values():
            _connector_types(hint, seen)


def test_every_type_the_facade_hands_out_is_public() -> None:
    seen: set[type] = set()
    for name, member in inspect.getmembers(connector.Connector):
        if name.startswith("_"):
            continue
        function = member.fget if isinstance(member, property) else member
        if callable(function):
            for hint in typing.get_type_hints(function).values():
                _connector_types(hint, seen)

    public_packages = ("connector.model", "connector.errors", "connector.sim", "connector.testing")
    hidden = sorted(
        cls.__qualname__
        for cls in seen
        if cls.__name__ not in connector.__all__ and not cls.__module__.startswith(public_packages)
    )

    assert [] == hidden


def test_machinery_is_not_exported_at_the_top_level() -> None:
    assert not {"Bus", "Supervisor", "CaptureWriter", "ChildSpec"} & set(connector.__all__)
