"""``net/`` is venue-agnostic trio I/O: it reports through callbacks and never reaches the bus."""

from __future__ import annotations

import pytest

from tests.test_layers import GRAPH, _modules

NET = _modules(["net/**/*.py"])


def test_net_modules_are_found() -> None:
    assert {"connector.net.ws", "connector.net.ws_transport", "connector.net.rpc"} <= set(NET)


@pytest.mark.parametrize("module", NET)
def test_net_module_never_reaches_the_bus(module: str) -> None:
    chain = GRAPH.find_path(module, prefix="connector.bus")

    assert chain is None, f"{module} reaches the bus: {' -> '.join(chain or [])}"
