"""The import layering the design promises, checked by walking the source (AST).

- Every module of ``connector/`` has a rank (:data:`LAYERS`, design.md section 2)
  and imports only modules of its own rank or below; a module the table does not
  place fails the test, so a new module must be given its layer.
- Sans-I/O and model modules reach no trio, httpx, time, random, trio_websocket,
  hypercorn or socket, however indirectly.
- The simulator imports nothing of connector but ``connector.model``,
  ``connector.errors`` and itself: it never sees client-side code (venues, net,
  book, bus, oms...), so a misunderstanding of a protocol cannot hide in both.
- ``connector.model`` and ``connector.errors`` import nothing else from connector.

Imports under ``if TYPE_CHECKING:`` and ``from __future__`` are exempt. Importing
``connector.a.b`` also runs ``connector/a/__init__.py``, so subpackage
``__init__`` modules are followed; the top-level ``connector/__init__.py`` (the
public facade, which necessarily imports trio) is not. Module lists come from
globs, so a new venue or module is covered without editing this file.
"""

from __future__ import annotations

import ast
import fnmatch
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

import connector

ROOT = Path(connector.__file__).resolve().parent
PACKAGE = "connector"

FORBIDDEN_IN_SANS_IO = frozenset(
    {"trio", "httpx", "time", "random", "trio_websocket", "hypercorn", "socket"}
)


class ImportGraph:
    """Imports of the modules of one package, read from source, resolved to module names."""

    def __init__(self, root: Path, package: str) -> None:
        self.root = root
        self.package = package
        self._cache: dict[str, tuple[str, ...]] = {}

    def path_of(self, module: str) -> Path | None:
        """The source file of ``module`` when it belongs to the package, else ``None``."""
        parts = module.split(".")
        if parts[0] != self.package:
            return None
        base = self.root.joinpath(*parts[1:])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if parts[1:] and candidate.is_file():
                return candidate
        if not parts[1:] and (self.root / "__init__.py").is_file():
            return self.root / "__init__.py"
        return None

    def module_of(self, path: Path) -> str:
        relative = path.resolve().relative_to(self.root).with_suffix("")
        parts = [self.package, *relative.parts]
        if parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)

    def imports(self, module: str) -> tuple[str, ...]:
        """Modules ``module`` imports at run time (absolute names, sorted)."""
        if module not in self._cache:
            path = self.path_of(module)
            found: set[str] = set()
            if path is not None:
                is_package = path.name == "__init__.py"
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
                for name, maybe_module in _runtime_imports(tree, module, is_package):
                    # "from pkg import name": name counts only when it is a module of ours.
                    if maybe_module and not self.is_module(name):
                        continue
                    found.update(self._expand(name))
            self._cache[module] = tuple(sorted(found))
        return self._cache[module]

    def direct_imports(self, module: str) -> tuple[str, ...]:
        """Modules of the package ``module`` names in its imports (no parent packages)."""
        path = self.path_of(module)
        if path is None:
            return ()
        found: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, _ in _runtime_imports(tree, module, path.name == "__init__.py"):
            if self.is_module(name) and name != self.package:
                found.add(name)
        return tuple(sorted(found))

    def _expand(self, name: str) -> Iterator[str]:
        """``name`` and the subpackages Python runs to import it (not the top package)."""
        parts = name.split(".")
        if parts[0] != self.package:
            yield name
            return
        for i in range(2, len(parts) + 1):
            yield ".".join(parts[:i])
        if len(parts) == 1:
            yield name

    def is_module(self, name: str) -> bool:
        return self.path_of(name) is not None

    def find_path(
        self, start: str, bad: Iterable[str] | None = None, *, prefix: str = ""
    ) -> list[str] | None:
        """Shortest import chain from ``start`` to a module that is bad, or ``None``.

        A module is bad when its top-level name is in ``bad``, or when it starts
        with ``prefix`` (``prefix`` itself or a submodule of it).

        The packages that contain ``start`` are not followed, even when a sibling
        import reaches them: Python has run them before ``start`` itself, so they
        are its surroundings, not its dependencies, and each is checked on its
        own where it claims a layer (``connector/sim/__init__.py`` is the
        simulator's I/O facade; ``sim/flow.py`` reaches it only through
        ``from connector.sim.engine import ...``).
        """
        bad_tops = frozenset(bad or ())

        def is_bad(name: str) -> bool:
            if name.split(".")[0] in bad_tops:
                return True
            return bool(prefix) and (name == prefix or name.startswith(prefix + "."))

        parent: dict[str, str | None] = {start: None}
        parts = start.split(".")
        for i in range(2, len(parts)):
            parent[".".join(parts[:i])] = None
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for name in self.imports(current):
                if name in parent:
                    continue
                parent[name] = current
                if is_bad(name):
                    chain = [name]
                    step: str | None = current
                    while step is not None:
                        chain.append(step)
                        step = parent[step]
                    return chain[::-1]
                if self.is_module(name) and name != self.package:
                    queue.append(name)
        return None


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, bool]]:
    """Absolute names of what ``tree`` imports outside ``if TYPE_CHECKING:`` blocks.

    Yields ``(name, maybe_module)``: ``from pkg import name`` yields ``(pkg, False)``
    and ``(pkg.name, True)``, the latter kept only when it is a module.
    """
    package = module if is_package else module.rpartition(".")[0]
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, False
        elif isinstance(node, ast.ImportFrom):
            if node.module == "__future__":
                continue
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            yield source, False
            for alias in node.names:
                if alias.name != "*":
                    yield f"{source}.{alias.name}", True
        stack.extend(ast.iter_child_nodes(node))


GRAPH = ImportGraph(ROOT, PACKAGE)


LAYERS: tuple[tuple[str, int, bool], ...] = (
    # (module pattern, rank, sans-I/O); the first matching pattern places a module.
    # 8 people: the command line, public test helpers
    ("connector.__main__", 8, False),
    ("connector.cli", 8, False),
    ("connector.cli.*", 8, False),
    ("connector.views", 8, False),
    ("connector.testing", 8, False),
    ("connector.testing.*", 8, False),
    # 7 the facade: wiring and public API
    ("connector.connector", 7, False),
    # 6 services above the venues, and the simulator (a program of its own)
    ("connector.aggregator", 6, False),
    ("connector.replay", 6, False),
    ("connector.health", 6, False),
    ("connector.health.breaker", 2, True),
    ("connector.health.*", 6, False),
    ("connector.oms.service", 6, False),
    ("connector.oms.tracking", 6, False),
    ("connector.oms.order_socket", 6, False),
    ("connector.trading", 7, False),
    ("connector.account.service", 6, False),
    ("connector.account.stream", 6, False),
    ("connector.risk.service", 6, False),
    ("connector.store", 1, True),
    ("connector.store.log", 1, True),
    ("connector.store.schema", 1, True),
    ("connector.store.projection", 2, True),
    ("connector.store.*", 6, False),
    ("connector.metrics", 6, False),
    ("connector.metrics.*", 6, False),
    ("connector.sim.engine", 6, True),
    ("connector.sim.engine_types", 6, True),
    ("connector.sim.flow", 6, True),
    ("connector.sim.reference", 6, True),
    ("connector.sim.desk", 6, True),
    ("connector.sim.desk_*", 6, True),
    ("connector.sim", 6, False),
    ("connector.sim.*", 6, False),
    # 5 venue-level trio: context, sessions, a venue's services
    ("connector.venues.session", 5, False),
    ("connector.venues.context", 5, False),
    ("connector.venues.*.service", 5, False),
    # 4 network edge: trio I/O, venue-agnostic, no bus
    ("connector.net", 4, False),
    ("connector.net.h1", 4, True),
    ("connector.net.ws_codec", 4, True),
    ("connector.net.*", 4, False),
    # 3 venue wire code, sans-I/O: bytes in, decisions out
    ("connector.venues", 3, True),
    ("connector.venues.*", 3, True),
    # 2 pure logic
    ("connector.book", 2, True),
    ("connector.book.*", 2, True),
    ("connector.oms", 2, True),
    ("connector.oms.*", 2, True),
    ("connector.account", 2, True),
    ("connector.account.*", 2, True),
    ("connector.risk", 2, True),
    ("connector.risk.*", 2, True),
    # 1 primitives and configuration values
    ("connector.bus", 1, False),
    ("connector.topics", 1, True),
    ("connector.supervision", 1, False),
    ("connector.supervision.*", 1, False),
    ("connector.config", 1, False),
    ("connector.config.*", 1, False),
    ("connector.logs", 1, False),
    ("connector.capture", 1, False),
    ("connector._groups", 1, False),
    # 0 frozen values
    ("connector.model", 0, True),
    ("connector.model.*", 0, True),
    ("connector.errors", 0, True),
    ("connector._version", 0, True),
)
"""The layers of design.md section 2, lowest rank at the bottom."""

SIM_MAY_IMPORT = ("connector.model", "connector.errors", "connector.sim")

NEVER: tuple[tuple[str, str, str], ...] = (
    # (importer package, package it must never reach, however indirectly; why)
    ("connector.net", "connector.bus", "the network edge reports through callbacks"),
    ("connector.book", "connector.venues", "books know no venue"),
)


def layer_of(module: str) -> tuple[int, bool] | None:
    """``(rank, sans_io)`` of a module, or ``None`` when no pattern places it."""
    for pattern, rank, sans_io in LAYERS:
        if fnmatch.fnmatchcase(module, pattern):
            return rank, sans_io
    return None


def all_modules() -> list[str]:
    """Every module of the package but the top-level facade ``connector/__init__.py``."""
    return sorted(
        GRAPH.module_of(p) for p in ROOT.rglob("*.py") if p.is_file() and p != ROOT / "__init__.py"
    )


ALL = all_modules()
SANS_IO = sorted(m for m in ALL if (layer_of(m) or (0, False))[1])
SIM = sorted(m for m in ALL if m == "connector.sim" or m.startswith("connector.sim."))
MODEL_AND_ERRORS = sorted(
    m
    for m in ALL
    if m in ("connector.model", "connector.errors") or m.startswith("connector.model.")
)


def test_module_discovery_finds_the_layers() -> None:
    assert {
        "connector.model",
        "connector.model.symbols",
        "connector.model.convert",
        "connector.book.sequencing",
        "connector.venues.common",
        "connector.venues.feed",
        "connector.venues.driver",
        "connector.venues.driver_common",
        "connector.venues.registry",
        "connector.venues.binance.market_data",
        "connector.venues.binance.rest",
        "connector.book.orderbook",
        "connector.sim.engine",
        "connector.sim.flow",
        "connector.health.breaker",
        "connector.oms.state",
        "connector.oms.ids",
        "connector.oms.validate",
        "connector.account.positions",
        "connector.account.balances",
        "connector.risk.checks",
        "connector.store.log",
    } <= set(SANS_IO)
    assert not [m for m in SANS_IO if m.endswith((".session", ".context"))]
    assert "connector.sim" in SIM
    assert "connector.errors" in MODEL_AND_ERRORS


@pytest.mark.parametrize("module", ALL)
def test_every_module_has_a_layer(module: str) -> None:
    assert layer_of(module) is not None, f"{module}: give it a rank in LAYERS (design.md 2)"


@pytest.mark.parametrize("module", ALL)
def test_module_imports_only_its_own_rank_or_below(module: str) -> None:
    placed = layer_of(module)
    assert placed is not None
    upward = [
        f"{name} (rank {layer[0]})"
        for name in GRAPH.direct_imports(module)
        if (layer := layer_of(name)) is not None and layer[0] > placed[0]
    ]

    assert [] == upward, f"{module} (rank {placed[0]}) imports upward"


@pytest.mark.parametrize("module", ALL)
def test_module_breaks_no_never_rule(module: str) -> None:
    broken = [
        f"{' -> '.join(chain)} ({why})"
        for importer, forbidden, why in NEVER
        if module == importer or module.startswith(importer + ".")
        if (chain := GRAPH.find_path(module, prefix=forbidden)) is not None
    ]

    assert [] == broken, f"{module} reaches what it must not"


@pytest.mark.parametrize("module", SANS_IO)
def test_sans_io_module_reaches_no_io_library(module: str) -> None:
    chain = GRAPH.find_path(module, FORBIDDEN_IN_SANS_IO)

    assert chain is None, f"{module} reaches I/O: {' -> '.join(chain or [])}"


@pytest.mark.parametrize("module", SIM)
def test_simulator_imports_no_client_code(module: str) -> None:
    client = [
        name
        for name in GRAPH.direct_imports(module)
        if name.split(".")[0] == PACKAGE
        and name != PACKAGE
        and not any(name == a or name.startswith(a + ".") for a in SIM_MAY_IMPORT)
    ]

    assert [] == client, f"{module} imports client-side code"


@pytest.mark.parametrize("module", MODEL_AND_ERRORS)
def test_model_and_errors_import_only_each_other(module: str) -> None:
    outside = [
        name
        for name in GRAPH.imports(module)
        if name.split(".")[0] == PACKAGE
        and name != "connector.errors"
        and not (name == "connector.model" or name.startswith("connector.model."))
    ]

    assert [] == outside


# --------------------------------------------------------------------------- the walker itself


@pytest.fixture
def toy(tmp_path: Path) -> ImportGraph:
    """A small package with one clean module and one that reaches trio indirectly."""
    root = tmp_path / "toy"
    (root / "sub").mkdir(parents=True)
    (root / "io").mkdir()
    files = {
        "__init__.py": "import trio\n",
        "sub/__init__.py": "",
        "clean.py": (
            "from __future__ import annotations\n"
            "from typing import TYPE_CHECKING\n"
            "import decimal\n"
            "if TYPE_CHECKING:\n    import trio\n    from toy.loud import x\n"
            "else:\n    import json\n"
        ),
        "middle.py": "from .sub import deep\n",
        "sub/deep.py": "def f():\n    import time\n    return time\n",
        "loud.py": "from toy import middle\nx = 1\n",
        "venueish.py": "from toy.sub.deep import f\n",
        "io/__init__.py": "import socket\n",
        "io/pure.py": "from toy.io import other\n",
        "io/other.py": "import decimal\n",
        "outsider.py": "from toy.io.other import *\n",
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return ImportGraph(root, "toy")


def test_walker_reports_the_import_chain_to_a_forbidden_module(toy: ImportGraph) -> None:
    assert ["toy.loud", "toy.middle", "toy.sub.deep", "time"] == toy.find_path(
        "toy.loud", FORBIDDEN_IN_SANS_IO
    )


def test_walker_skips_type_checking_imports_and_the_top_package(toy: ImportGraph) -> None:
    assert ("decimal", "json", "typing") == toy.imports("toy.clean")
    assert toy.find_path("toy.clean", FORBIDDEN_IN_SANS_IO) is None


def test_walker_finds_a_forbidden_package_prefix(toy: ImportGraph) -> None:
    assert ["toy.venueish", "toy.sub"] == toy.find_path("toy.venueish", prefix="toy.sub")


def test_walker_does_not_follow_the_packages_that_contain_the_start_module(
    toy: ImportGraph,
) -> None:
    assert toy.find_path("toy.io.pure", FORBIDDEN_IN_SANS_IO) is None
    assert ["toy.io", "socket"] == toy.find_path("toy.io", FORBIDDEN_IN_SANS_IO)
    assert ["toy.outsider", "toy.io", "socket"] == toy.find_path(
        "toy.outsider", FORBIDDEN_IN_SANS_IO
    )
