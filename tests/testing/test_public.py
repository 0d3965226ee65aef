"""connector.testing is a public package: a curated namespace, everything documented."""

from __future__ import annotations

import inspect

import connector.testing


def test_every_public_class_and_function_is_documented() -> None:
    undocumented = [
        name
        for name in connector.testing.__all__
        if (inspect.isclass(value := getattr(connector.testing, name)) or inspect.isfunction(value))
        and not (value.__doc__ or "").strip()
    ]

    assert [] == undocumented
    assert sorted(connector.testing.__all__) == list(connector.testing.__all__)


def test_public_methods_of_public_classes_are_documented() -> None:
    undocumented = [
        f"{name}.{attr}"
        for name in connector.testing.__all__
        if inspect.isclass(cls := getattr(connector.testing, name))
        for attr, value in vars(cls).items()
        if not attr.startswith("_") and callable(value) and not (value.__doc__ or "").strip()
    ]

    assert [] == undocumented
