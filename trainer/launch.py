"""Turn a training config file or a recipe into a validated `TrainConfig`.

A file whose top level has `sources:` or `train:` is a recipe: its mix is built by `cascade build` into
runs/<recipe name> (or --build-dir) first when that build is missing or stale (its manifest.json records another
recipe sha256), and `train.data.packed_dir` defaults to that build's packed rows.
Any other YAML mapping is a training config itself. Relative paths are relative to the working directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from trainer.config import TrainConfig


def load_train_config(path: Path, max_steps: int | None = None, output_dir: str | None = None,
                      build: bool = True, build_dir: str | None = None) -> TrainConfig:
    """Read, apply command-line overrides, validate; ValueError names the file and the key."""
    if not path.is_file():
        raise ValueError(f"{path}: no such config or recipe file")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    is_recipe = "sources" in raw or "train" in raw
    config_dict = recipe_train_section(path, build, build_dir) if is_recipe else dict(raw)
    if max_steps is not None:
        config_dict["batch"] = {**config_dict.get("batch", {}), "max_steps": max_steps}
    if output_dir is not None:
        config_dict["output_dir"] = output_dir
    try:
        return TrainConfig.from_dict(config_dict)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def default_build_dir(recipe_name: str) -> Path:
    return Path("runs") / recipe_name


def recipe_train_section(recipe_path: Path, build: bool, build_dir: str | None) -> dict[str, Any]:
    """The recipe's `train:` dict, reading the packed rows of the recipe's mix (built first when needed) and
    writing under BUILD_DIR/train unless it says otherwise."""
    from curate.recipe import load_recipe

    recipe = load_recipe(recipe_path)
    build_path = Path(build_dir) if build_dir else default_build_dir(recipe.name)
    train_section = dict(recipe.train)
    data = dict(train_section.get("data") or {})
    if "packed_dir" not in data:
        data["packed_dir"] = str(ensure_built(recipe_path, recipe.sha256, build_path, build))
    train_section["data"] = data
    train_section.setdefault("output_dir", str(build_path / "train"))
    return train_section


def ensure_built(recipe_path: Path, recipe_sha256: str, build_path: Path, build: bool) -> Path:
    """The packed-rows folder of the recipe's build. With `build`, `cascade build` runs into build_path first: it
    resumes finished stages when the recipe and its input files are unchanged, and rebuilds when they changed.
    Without (torchrun ranks, after the launcher built), the build's manifest must record this exact recipe file."""
    manifest_path = build_path / "manifest.json"
    if build:
        from curate.build import run_build

        run_build(recipe_path, build_path)
    elif not (manifest_path.is_file()
              and json.loads(manifest_path.read_text()).get("recipe_sha256") == recipe_sha256):
        state = "stale (recipe changed)" if manifest_path.is_file() else "missing"
        raise ValueError(f"{recipe_path}: its build in {build_path} is {state}; run `cascade build "
                         f"{recipe_path} --out {build_path}` first, or `cascade train {recipe_path}`")
    return packed_root(build_path, json.loads(manifest_path.read_text()))


def packed_root(build_path: Path, manifest: dict[str, Any]) -> Path:
    """The folder holding `packed/` among the files the build manifest lists."""
    roots = {Path(entry["path"]).parent.parent for entry in manifest.get("files", [])
             if Path(entry["path"]).parent.name == "packed"}
    if len(roots) != 1:
        raise ValueError(f"{build_path}/manifest.json lists {len(roots)} packed-row folders (expected one "
                         "`.../packed/*.parquet`); the build has not tokenized and packed its mix")
    return build_path / roots.pop()
