"""The build stamp (`OUT/build.json`): what a finished build read, so a changed recipe, input or cascade version
rebuilds it; plus the file hashing and package versions the manifest shares."""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path
from typing import Any

import orjson

from curate.recipe import Recipe

STAMP = "build.json"
LEGACY_STAMP = "recipe.sha256"  # the stamp before inputs were fingerprinted: such a build is rebuilt
HASHED_FILE_BYTES = 64 << 20  # files up to this are fingerprinted by sha256, bigger ones by size + mtime_ns


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (shard and input files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_version(package: str) -> str | None:
    """Installed version of a package, None when it is not installed."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _file_fingerprint(path: Path, root: Path) -> dict[str, Any]:
    """Path (relative to `root` when under it) + size + sha256. Files over HASHED_FILE_BYTES get size + mtime_ns
    instead, so re-running a build over multi-GB sources does not re-read them; touching such a file rebuilds."""
    stat = path.stat()
    resolved = path.resolve()
    name = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else resolved.as_posix()
    if stat.st_size <= HASHED_FILE_BYTES:
        return {"path": name, "size": stat.st_size, "sha256": sha256_file(path)}
    return {"path": name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def input_fingerprint(recipe: Recipe, root: Path) -> dict[str, Any]:
    """What a build's outputs depend on besides the code: the recipe file, every source file (a folder: every file
    under it) and benchmark file, and the cascade version. Hub sources are recorded by name only (not pinned)."""
    inputs: list[dict[str, Any]] = []
    paths = [s.path if s.path is not None else s.spec for s in recipe.sources]
    for spec in [*paths, *(b.path for b in recipe.decontam.benchmarks)]:
        path = Path(spec)
        if spec.startswith("hf://"):
            inputs.append({"hub": spec})
        elif not path.exists():
            inputs.append({"path": spec, "missing": True})  # ingest / decontam name it when they read it
        else:
            files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
            inputs.extend(_file_fingerprint(f, root) for f in files)
    return {"recipe_sha256": recipe.sha256, "cascade": package_version("cascade"), "inputs": inputs}


def stale_reason(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """Why a finished build no longer matches its recipe and inputs (None: it still does)."""
    if old.get("recipe_sha256") != new["recipe_sha256"]:
        return "the recipe changed"
    if old.get("cascade") != new["cascade"]:
        return f"cascade changed ({old.get('cascade')} → {new['cascade']})"
    before = {orjson.dumps(i, option=orjson.OPT_SORT_KEYS) for i in old.get("inputs", [])}
    changed = [i.get("path") or i.get("hub") for i in new["inputs"]
               if orjson.dumps(i, option=orjson.OPT_SORT_KEYS) not in before]
    if changed or len(old.get("inputs", [])) != len(new["inputs"]):
        return f"inputs changed ({', '.join(map(str, changed[:3])) or 'files removed'})"
    return None

