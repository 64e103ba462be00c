"""Typed config from YAML mappings: values land in their declared types, mistakes name the key path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from curate.typed_config import build_dataclass


@dataclass
class Inner:
    rate: float
    mode: Literal["a", "b"] = "a"


@dataclass
class Outer:
    inner: Inner
    steps: int = 1
    names: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    cap: int | None = None


def test_values_are_coerced_to_their_declared_types() -> None:
    cfg = build_dataclass(Outer, {"inner": {"rate": "5e-5", "mode": "b"}, "names": ["x"], "weights": {"m": 2},
                                  "cap": None}, "cfg")
    assert cfg == Outer(Inner(5e-5, "b"), names=["x"], weights={"m": 2.0})
    assert isinstance(cfg.weights["m"], float)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"inner": {"rate": 1.0}, "stesp": 2}, "cfg.stesp: unknown key; known: cap, inner, names, steps, weights"),
        ({}, "cfg.inner: required"),
        ({"inner": {"rate": "fast"}}, "cfg.inner.rate: expected a number, got 'fast'"),
        ({"inner": {"rate": 1.0, "mode": "c"}}, "cfg.inner.mode: expected one of a, b, got 'c'"),
        ({"inner": {"rate": 1.0}, "steps": True}, "cfg.steps: expected an integer, got True"),
        ({"inner": {"rate": 1.0}, "names": "x"}, "cfg.names: expected a list, got str"),
        ({"inner": {"rate": 1.0}, "names": [3]}, "cfg.names[0]: expected a string, got 3"),
        ({"inner": {"rate": 1.0}, "weights": {"m": "heavy"}}, "cfg.weights.m: expected a number, got 'heavy'"),
        ({"inner": {"rate": 1.0}, "cap": 1.5}, "cfg.cap: expected an integer, got 1.5"),
        ({"inner": [1]}, "cfg.inner: expected a mapping, got list"),
    ],
)
def test_mistakes_name_the_key_path(data: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        build_dataclass(Outer, data, "cfg")
    assert str(err.value) == message
