"""`run_build`: prepare the output folder (resume, rebuild a stale build, refuse a foreign folder), run the stages,
then tokenize + pack, and write the ledger and manifest."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from curate.build.fingerprint import LEGACY_STAMP, STAMP, input_fingerprint, stale_reason
from curate.build.stages import STAGES, Build, Progress
from curate.build.tokens import tokenize_and_pack
from curate.recipe import load_recipe


def ensure_demo_corpus(recipe_path: Path, seed: int) -> Path:
    """A `demo_corpus: true` recipe reads the generated demo corpus beside it (`demo_corpus/`). It is written on
    every build (deterministic, well under a second), so a corpus from another seed or an older generator never
    lingers; unchanged bytes keep the input fingerprint (see `input_fingerprint`) and so the finished stages."""
    from curate.demo_data import write_demo_corpus

    root = recipe_path.resolve().parent / "demo_corpus"
    write_demo_corpus(root, seed)
    return root


BUILD_OUTPUTS = (*STAGES, "logs", "tokenize", "packed", "ledger.json", "manifest.json", "pack_stats.json",
                 LEGACY_STAMP)


def remove_build_outputs(out: Path) -> None:
    """Delete what a build wrote (only that: a trainer's `OUT/train/` and anything else stay)."""
    for name in BUILD_OUTPUTS:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def run_build(recipe_path: str | Path, out_dir: str | Path, workers: int | None = None,
              progress: Progress | None = None) -> Path:
    """Build the recipe into `out_dir` and return the final output folder (`OUT/packed` when the recipe packs,
    else `OUT/mix`). Re-running into the same folder resumes a killed build; a changed recipe, source or benchmark
    file (or cascade version) rebuilds it: `OUT/build.json` records what the build read."""
    recipe_path, out = Path(recipe_path), Path(out_dir)
    recipe = load_recipe(recipe_path)
    label_root = recipe_path.resolve().parent
    if recipe.demo_corpus:
        label_root = ensure_demo_corpus(recipe_path, recipe.seed)
        recipe = load_recipe(recipe_path, demo_root=label_root)
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        recipe.executor.workers = workers
    out.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda stage, message: None)
    stamp, fingerprint = out / STAMP, input_fingerprint(recipe, recipe_path.resolve().parent)
    if stamp.is_file() or (out / LEGACY_STAMP).is_file():
        previous = orjson.loads(stamp.read_bytes()) if stamp.is_file() else {}
        reason = stale_reason(previous, fingerprint) if previous else "the build here predates input fingerprints"
        if reason is not None:
            report("build", f"rebuilding from scratch: {reason}")
            remove_build_outputs(out)
    elif any(out.iterdir()):
        raise ValueError(f"{out} is not empty and holds no build; use a new or empty --out folder")
    stamp.write_bytes(orjson.dumps(fingerprint, option=orjson.OPT_INDENT_2))
    build = Build(recipe, out, report, label_root)
    for name in STAGES:
        build.stage(name, getattr(build, name))
    for i in range(1, len(STAGES)):
        prev = build.ledger[STAGES[i - 1]]
        assert build.ledger[STAGES[i]]["in"] == prev.get("samples_out", prev["kept"]), f"{STAGES[i]} input drifted"
    final = tokenize_and_pack(recipe, out / "mix", out, build.progress)
    ledger = {"recipe": recipe.name, "seed": recipe.seed, "stages": build.ledger,
              "invariant": "per stage: in == kept + dropped + duplicates"}
    (out / "ledger.json").write_bytes(orjson.dumps(ledger, option=orjson.OPT_INDENT_2))
    (out / "manifest.json").write_bytes(orjson.dumps(build.manifest(), option=orjson.OPT_INDENT_2))
    assert orjson.loads((out / "manifest.json").read_bytes())["recipe_sha256"] == recipe.sha256
    return final
