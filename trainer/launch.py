"""Turn a training config file or a recipe into a validated `TrainConfig`.

A file whose top level has a `train:` key is a recipe: its mix is built by `cascade build` (here first, when the
build is missing or stale and `build` is allowed) and `train.data.packed_dir` defaults to that build's packed rows.
Any other YAML mapping is a training config itself. Relative paths are relative to the working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from trainer.config import TrainConfig


def load_train_config(path: Path, max_steps: int | None = None, output_dir: str | None = None,
                      build: bool = True) -> TrainConfig:
    """Read, apply command-line overrides, validate; ValueError names the file and the key."""
    if not path.is_file():
        raise ValueError(f"{path}: no such config or recipe file")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    config_dict = recipe_train_section(path, build) if "train" in raw else raw
    config_dict = dict(config_dict)
    if max_steps is not None:
        config_dict["batch"] = {**config_dict.get("batch", {}), "max_steps": max_steps}
    if output_dir is not None:
        config_dict["output_dir"] = output_dir
    try:
        return TrainConfig.from_dict(config_dict)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def recipe_train_section(recipe_path: Path, build: bool) -> dict[str, Any]:
    """The recipe's `train:` dict, pointed at the packed rows of the recipe's (possibly just rebuilt) mix."""
    try:
        from curate.recipe import load_recipe
    except ImportError:
        raise ValueError(f"{recipe_path}: recipes need curate.recipe, which this checkout lacks; "
                         "pass a training config with data.packed_dir instead") from None
    recipe = load_recipe(recipe_path)
    train_section = dict(recipe.train or {})
    data = dict(train_section.get("data") or {})
    if "packed_dir" not in data:
        data["packed_dir"] = str(ensure_built(recipe_path, build))
    train_section["data"] = data
    return train_section


def ensure_built(recipe_path: Path, build: bool) -> Path:
    """The recipe's build directory, running `cascade build` first when it is missing or stale."""
    from curate.build import build_is_current, default_build_dir, run_build

    build_dir = default_build_dir(recipe_path)
    if build_is_current(recipe_path, build_dir):
        return build_dir
    if not build:
        raise ValueError(f"{recipe_path}: its mix in {build_dir} is missing or stale; run `cascade build "
                         f"{recipe_path}` first (or `cascade train {recipe_path}`, which builds it)")
    return run_build(recipe_path, build_dir)
