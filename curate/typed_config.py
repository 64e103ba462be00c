"""Typed configuration from YAML: build a dataclass from a plain mapping, checking keys and values by the type hints.

Recipes, filter settings and the trainer's config all load this way, so a typo or a wrong type fails before anything
runs, with an error naming the key path (`train.optim.lr: expected a number, got 'fast'`). Supported hints: bool, int,
float, str, Any, Literal[...], X | None and other unions (first option that fits), list[X], dict[K, V] and nested
dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def build_dataclass(cls: type[T], data: Any, path: str, *, key_noun: str = "key") -> T:
    """Instantiate dataclass `cls` from mapping `data`; unknown and missing required keys are errors.

    `key_noun` words the unknown-key error (`filters.math.proof.min_char: unknown setting; known: ...`).
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{path}.{unknown[0]}: unknown {key_noun}; known: {', '.join(sorted(fields))}")
    missing = [name for name, f in fields.items() if name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ValueError(f"{path}.{missing[0]}: required")
    hints = typing.get_type_hints(cls)
    return cls(**{name: coerce(value, hints[name], f"{path}.{name}", key_noun=key_noun)
                  for name, value in data.items()})


def coerce(value: Any, hint: Any, path: str, *, key_noun: str = "key") -> Any:
    """Check `value` against type `hint` and return it in that type; ValueError names `path`."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(value, option, path, key_noun=key_noun)
            except ValueError as e:
                errors.append(str(e))
        raise ValueError(errors[0])
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise ValueError(f"{path}: expected one of {', '.join(map(str, allowed))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        return build_dataclass(hint, value, path, key_noun=key_noun)
    if origin is dict:
        key_type, value_type = typing.get_args(hint)
        if not isinstance(value, Mapping):
            raise ValueError(f"{path}: expected a mapping, got {type(value).__name__}")
        return {coerce(k, key_type, path, key_noun=key_noun): coerce(v, value_type, f"{path}.{k}", key_noun=key_noun)
                for k, v in value.items()}
    if origin is list:
        (item_type,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected a list, got {type(value).__name__}")
        return [coerce(v, item_type, f"{path}[{i}]", key_noun=key_noun) for i, v in enumerate(value)]
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: expected true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{path}: expected an integer, got {value!r}")
        return value
    if hint is float:
        return _number(value, path)
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{path}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{path}: unsupported config type {hint!r}")


def _number(value: Any, path: str) -> float:
    """A float; also from a string, since PyYAML (YAML 1.1) reads `5e-5` (no dot) as one."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{path}: expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path}: expected a number, got {value!r}")
    return float(value)
