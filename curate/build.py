"""`cascade build`: a recipe → ingest → filter → dedup → decontam → mix (→ tokenize → pack), with a ledger that
adds up at every stage and a manifest that is byte-for-byte reproducible.

Layout of OUT: `<stage>/samples|rejects|duplicates/NNNNN.parquet` per stage, `<stage>/.done` (the stage's ledger
entry, written last: a re-run skips finished stages), `logs/` (datatrove logs and completion markers: a re-run
skips finished tasks), `ledger.json`, `manifest.json`. Determinism: tasks follow input shards, never workers, and
every random choice draws from the recipe seed, so 1 or N workers and a killed-then-resumed run give one manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from curate.decontam import DecontamCheck
from curate.dedup import PipelinePlan, dedup_plans
from curate.documents import SampleShardReader, StageWriter
from curate.filters import build_filter_steps
from curate.recipe import ExecutorSettings, Recipe, SourceSpec, load_recipe
from curate.schema import SAMPLE_SCHEMA

STAGES = ("ingest", "filter", "dedup", "decontam", "mix")
VERSIONED_PACKAGES = ("cascade", "datatrove", "pyarrow", "numpy", "xxhash", "orjson", "unidiff", "jsonschema")
Progress = Callable[[str, str], None]  # (stage, message)
SLURM_POLL_SECONDS = 30


# ---------------------------------------------------------------- running datatrove pipelines


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """datatrove logs every task to stderr; send that (workers included: they inherit fd 2) to the stage log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved_fd, saved_stream = os.dup(2), sys.stderr
    with path.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)
        sys.stderr = log  # loguru binds the stream object when datatrove adds its task sink
        try:
            yield
        finally:
            log.flush()
            sys.stderr = saved_stream
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


def run_plan(plan: PipelinePlan, logs_dir: Path, executor: ExecutorSettings) -> None:
    """Run one pipeline on the recipe's executor; finished tasks (datatrove completions) are skipped."""
    logging_dir = str(logs_dir / plan.name)
    if executor.kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        runner = LocalPipelineExecutor(plan.pipeline, tasks=plan.tasks, workers=min(executor.workers, plan.tasks),
                                       logging_dir=logging_dir)
    elif executor.kind == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        runner = SlurmPipelineExecutor(pipeline=plan.pipeline, tasks=plan.tasks, workers=executor.workers,
                                       logging_dir=logging_dir, **executor.options)
    else:
        from datatrove.executor import RayPipelineExecutor

        runner = RayPipelineExecutor(pipeline=plan.pipeline, tasks=plan.tasks, workers=executor.workers,
                                     logging_dir=logging_dir, **executor.options)
    log_path = logs_dir / f"{plan.name}.stderr.log"
    try:
        with _stderr_to(log_path):
            runner.run()
        # Slurm's run() submits and returns: the next pipeline reads this one's outputs, so wait for completions.
        while executor.kind == "slurm" and runner.get_incomplete_ranks():
            time.sleep(SLURM_POLL_SECONDS)
    except Exception as e:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"pipeline {logs_dir.name}/{plan.name} failed ({e}); log tail:\n{tail}") from e


class TemplateTokenCounter:
    """Tokens of a sample after the chat template, with the recipe's tokenizer (the `length.max_tokens` check).

    Picklable: the tokenizer loads lazily inside whichever worker process runs the filter.
    """

    def __init__(self, tokenizer: str | None, thinking: bool | None):
        self.tokenizer, self.thinking = tokenizer, thinking
        self._encoder: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer, "thinking": self.thinking, "_encoder": None}

    def __call__(self, sample: Any) -> int:
        if self._encoder is None:
            from packers.tokenize import SampleEncoder
            from packers.tokenizer import load_tokenizer

            self._encoder = SampleEncoder(load_tokenizer(self.tokenizer), self.thinking)
        return len(self._encoder.encode([sample]).input_ids[0])


# ---------------------------------------------------------------- counting


def _rows(files: list[Path]) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def _reason_counts(files: list[Path]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for f in files:
        column = pq.read_table(f, columns=["filter", "reason"])
        for check, reason in zip(column["filter"].to_pylist(), column["reason"].to_pylist(), strict=True):
            counts[f"{check}:{reason}"] += 1
    return dict(sorted(counts.items()))


def _shards(stage_dir: Path, folder: str) -> list[Path]:
    return sorted((stage_dir / folder).glob("*.parquet"))


def stage_entry(in_rows: int, stage_dir: Path) -> dict[str, Any]:
    """Ledger entry of a datatrove stage, counted from its output files; asserts in == kept + dropped + dups."""
    kept = _rows(_shards(stage_dir, "samples"))
    dropped = _reason_counts(_shards(stage_dir, "rejects"))
    duplicates = _reason_counts(_shards(stage_dir, "duplicates"))
    entry = {"in": in_rows, "kept": kept, "dropped": sum(dropped.values()), "duplicates": sum(duplicates.values()),
             "dropped_by_reason": dropped, "duplicates_by_kind": duplicates}
    assert in_rows == kept + entry["dropped"] + entry["duplicates"], f"{stage_dir.name} ledger does not add up: {entry}"
    return entry


# ---------------------------------------------------------------- stages


class Build:
    def __init__(self, recipe: Recipe, out_dir: Path, progress: Progress, label_root: Path):
        self.recipe, self.out, self.progress = recipe, out_dir, progress
        self.label_root = label_root.resolve()  # source labels (hashed into sample ids) are relative to it
        self.ledger: dict[str, Any] = {}

    def source_label(self, source: SourceSpec) -> str:
        """How ids name a source: its path relative to the recipe's folder (the demo corpus for a demo recipe), so
        one recipe + data in another folder builds the same ids and manifest; paths outside it stay absolute."""
        if source.path is None:
            return source.spec
        path = Path(source.path).resolve()
        return path.relative_to(self.label_root).as_posix() if path.is_relative_to(self.label_root) else str(path)

    def stage(self, name: str, run: Callable[[Path], dict[str, Any]]) -> None:
        stage_dir = self.out / name
        done = stage_dir / ".done"
        if done.is_file():
            self.ledger[name] = orjson.loads(done.read_bytes())
            self.progress(name, "already done (resumed)")
            return
        self.progress(name, "running")
        entry = run(stage_dir)
        done.write_bytes(orjson.dumps(entry, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        self.ledger[name] = entry
        self.progress(name, f"in {entry['in']} → kept {entry['kept']}")

    def ingest(self, stage_dir: Path) -> dict[str, Any]:
        from curate.ingest import ingest

        totals: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        per_source = []
        for i, source in enumerate(self.recipe.sources):
            part = stage_dir / "sources" / f"{i:03d}"
            if (part / "ledger.json").is_file():  # ingest writes it last
                summary = orjson.loads((part / "ledger.json").read_bytes())
            else:
                summary = ingest([source.spec], source.domain, part, fmt=source.format, strict=source.strict,
                                 progress=False, labels=[self.source_label(source)])
            self.progress("ingest", f"{self.source_label(source)}: {summary['samples_out']} samples")
            totals.update(records_in=summary["in"], kept=summary["kept"], rejected=summary["rejected"],
                          samples_out=summary["samples_out"])
            reasons.update({f"ingest:{k}": v for k, v in summary["by_reason"].items()})
            per_source.append({"source": self.source_label(source), "domain": source.domain, "in": summary["in"],
                               "kept": summary["kept"], "dropped": summary["rejected"],
                               "samples_out": summary["samples_out"]})
        entry = {"in": totals["records_in"], "kept": totals["kept"], "dropped": totals["rejected"], "duplicates": 0,
                 "samples_out": totals["samples_out"], "dropped_by_reason": dict(sorted(reasons.items())),
                 "duplicates_by_kind": {}, "per_source": per_source,
                 "note": "ingest counts records; one record may yield several samples (samples_out)"}
        assert entry["in"] == entry["kept"] + entry["dropped"], f"ingest ledger does not add up: {entry}"
        assert entry["samples_out"] == _rows(self.ingest_files()), "ingest shards disagree with its ledger"
        return entry

    def ingest_files(self) -> list[Path]:
        return sorted((self.out / "ingest" / "sources").glob("*/samples/*.parquet"))

    def datatrove_stage(self, stage_dir: Path, in_files: list[Path], plans: list[PipelinePlan]) -> dict[str, Any]:
        for plan in plans:
            self.progress(stage_dir.name, f"{plan.name}: {plan.tasks} task(s)")
            run_plan(plan, self.out / "logs" / stage_dir.name, self.recipe.executor)
        return stage_entry(_rows(in_files), stage_dir)

    def filter(self, stage_dir: Path) -> dict[str, Any]:
        files = self.ingest_files()
        needs_tokens = any(c.get("length") is not None and c["length"].max_tokens for c in self.recipe.filters.values())
        counter = TemplateTokenCounter(recipe_tokenizer(self.recipe), self.recipe.tokenizer.get(
            "thinking")) if needs_tokens else None
        steps = [SampleShardReader(files), *build_filter_steps(self.recipe.filters, count_tokens=counter),
                 StageWriter(stage_dir)]
        return self.datatrove_stage(stage_dir, files, [PipelinePlan("filter", steps, len(files))])

    def dedup(self, stage_dir: Path) -> dict[str, Any]:
        files = _shards(self.out / "filter", "samples")
        return self.datatrove_stage(stage_dir, files, dedup_plans(files, stage_dir, self.recipe.dedup))

    def decontam(self, stage_dir: Path) -> dict[str, Any]:
        files = _shards(self.out / "dedup", "samples")
        steps = [SampleShardReader(files), DecontamCheck(self.recipe.decontam), StageWriter(stage_dir)]
        return self.datatrove_stage(stage_dir, files, [PipelinePlan("decontam", steps, len(files))])

    def mix(self, stage_dir: Path) -> dict[str, Any]:
        files = _shards(self.out / "decontam", "samples")
        domains = [d for f in files for d in pq.read_table(f, columns=["domain"])["domain"].to_pylist()]
        picks, entry = plan_mix(domains, self.recipe)
        order = np.random.default_rng([self.recipe.seed, 1]).permutation(len(picks))
        shutil.rmtree(stage_dir / "samples", ignore_errors=True)
        write_rows(files, np.asarray(picks, dtype=np.int64)[order], stage_dir / "samples", self.recipe.mix.shard_rows,
                   stage_dir / "spill")
        assert _rows(_shards(stage_dir, "samples")) == entry["rows_out"]
        return entry

    def manifest(self) -> dict[str, Any]:
        """The packer's manifest (when it packed: `cascade stats OUT` reads it) extended with every output file,
        the recipe hash and versions. Paths are relative to OUT so two builds compare equal wherever they live."""
        packed: dict[str, Any] = {}
        if self.recipe.pack is not None:  # pack_tokens wrote OUT/manifest.json; keep every key it has
            packed = orjson.loads((self.out / "manifest.json").read_bytes())
            for item in packed.get("inputs", []):
                if Path(item["path"]).is_absolute():
                    item["path"] = Path(item["path"]).resolve().relative_to(self.out.resolve()).as_posix()
        files = []
        for path in sorted(self.out.rglob("*.parquet")):
            rel = path.relative_to(self.out)
            if rel.parts[0] == "logs" or "work" in rel.parts and "clusters" not in rel.parts:
                continue
            rows = pq.ParquetFile(path).metadata.num_rows
            files.append({"path": rel.as_posix(), "sha256": _sha256(path), "rows": rows})
        versions = {name: v for name in VERSIONED_PACKAGES if (v := _version(name)) is not None}
        return {**packed, "recipe": self.recipe.name, "recipe_sha256": self.recipe.sha256, "seed": self.recipe.seed,
                "stages": list(self.ledger), "files": files, "versions": versions}


def plan_mix(domains: list[str], recipe: Recipe) -> tuple[list[int], dict[str, Any]]:
    """Row indices of the mix (with repeats for upsampling) and the mix ledger entry.

    Per domain: `count` exact, `weight` a share of `mix.total`, `epochs` a multiple of what survived; `cap` bounds
    all three; domains the mix does not name are taken once. Whole copies first, then a seeded sample.
    """
    mix = recipe.mix
    by_domain: dict[str, list[int]] = {}
    for i, d in enumerate(domains):
        by_domain.setdefault(d, []).append(i)
    weights = sum(dm.weight for dm in mix.domains.values() if dm.weight is not None)
    picks: list[int] = []
    per_domain: dict[str, dict[str, int]] = {}
    for d in sorted(by_domain):
        rows, dm = by_domain[d], mix.domains.get(d)
        n = len(rows)
        if dm is None or (dm.count is None and dm.weight is None and dm.epochs is None):
            target = n
        elif dm.count is not None:
            target = dm.count
        elif dm.weight is not None:
            target = round(mix.total * dm.weight / weights) if weights else 0
        else:
            target = round(n * dm.epochs)
        if dm is not None and dm.cap is not None:
            target = min(target, dm.cap)
        copies, rest = divmod(target, n)
        rng = np.random.default_rng([recipe.seed, sorted(by_domain).index(d) + 2])
        chosen = rows * copies + sorted(np.asarray(rows)[rng.choice(n, rest, replace=False)].tolist())
        picks.extend(chosen)
        per_domain[d] = {"available": n, "selected": n if copies else rest, "rows_out": len(chosen)}
    selected = sum(v["selected"] for v in per_domain.values())
    entry = {"in": len(domains), "kept": selected, "dropped": len(domains) - selected, "duplicates": 0,
             "dropped_by_reason": {"mix:not_selected": len(domains) - selected} if len(domains) > selected else {},
             "duplicates_by_kind": {}, "rows_out": len(picks), "per_domain": per_domain,
             "note": "kept counts distinct samples; rows_out includes upsampled copies (same id)"}
    assert entry["in"] == entry["kept"] + entry["dropped"]
    return picks, entry


def write_rows(files: list[Path], rows_in_order: np.ndarray, out_dir: Path, shard_rows: int, spill_dir: Path,
               spill_bytes: int = 64 << 20) -> None:
    """Write input rows (global indices over `files`, repeats allowed) in the given order as shards of
    `shard_rows`, streaming: one pass over the inputs spills each row to its output shard's bucket on disk, then
    each shard (at most `shard_rows` rows) is ordered in memory. Memory does not grow with the corpus."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(spill_dir, ignore_errors=True)
    num_shards = max(1, -(-len(rows_in_order) // shard_rows))
    by_row = np.argsort(rows_in_order, kind="stable")  # occurrences sorted by input row; values = output positions
    sorted_rows = rows_in_order[by_row]
    buffers: dict[int, list[pa.Table]] = {}
    buffered, chunks, offset = 0, 0, 0

    def flush() -> None:
        nonlocal buffered, chunks
        for shard, tables in buffers.items():
            path = spill_dir / f"{shard:05d}" / f"{chunks:05d}.arrow"
            path.parent.mkdir(parents=True, exist_ok=True)
            table = pa.concat_tables(tables)
            with pa.ipc.new_file(path, table.schema) as writer:
                writer.write_table(table)
        buffers.clear()
        buffered, chunks = 0, chunks + 1

    for f in files:
        for batch in pq.ParquetFile(f).iter_batches(batch_size=1024):
            lo, hi = np.searchsorted(sorted_rows, [offset, offset + batch.num_rows])
            if hi > lo:
                positions = by_row[lo:hi]
                taken = pa.Table.from_batches([batch]).take(pa.array(sorted_rows[lo:hi] - offset))
                taken = taken.append_column("_position", pa.array(positions, type=pa.int64()))
                shards = positions // shard_rows
                for shard in np.unique(shards).tolist():
                    part = taken.filter(pa.array(shards == shard))
                    buffers.setdefault(shard, []).append(part)
                    buffered += part.nbytes
                if buffered > spill_bytes:
                    flush()
            offset += batch.num_rows
    for shard in range(num_shards):
        tables = [pa.ipc.open_file(p).read_all() for p in sorted((spill_dir / f"{shard:05d}").glob("*.arrow"))]
        tables += buffers.get(shard, [])
        if tables:
            table = pa.concat_tables(tables).sort_by("_position").drop_columns(["_position"]).combine_chunks()
        else:
            table = SAMPLE_SCHEMA.empty_table()
        pq.write_table(table, out_dir / f"{shard:05d}.parquet", compression="zstd")
    shutil.rmtree(spill_dir, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_demo_corpus(recipe_path: Path, seed: int) -> Path:
    """A `demo_corpus: true` recipe reads the generated demo corpus beside it (`demo_corpus/`). It is written on
    every build (deterministic, well under a second), so a corpus from another seed or an older generator never
    lingers; unchanged bytes keep the input fingerprint (see `input_fingerprint`) and so the finished stages."""
    from curate.demo_data import write_demo_corpus

    root = recipe_path.resolve().parent / "demo_corpus"
    write_demo_corpus(root, seed)
    return root


# ---------------------------------------------------------------- the build stamp: what a finished build read

STAMP = "build.json"
LEGACY_STAMP = "recipe.sha256"  # the stamp before inputs were fingerprinted: such a build is rebuilt
HASHED_FILE_BYTES = 64 << 20  # files up to this are fingerprinted by sha256, bigger ones by size + mtime_ns


def _file_fingerprint(path: Path, root: Path) -> dict[str, Any]:
    """Path (relative to `root` when under it) + size + sha256. Files over HASHED_FILE_BYTES get size + mtime_ns
    instead, so re-running a build over multi-GB sources does not re-read them; touching such a file rebuilds."""
    stat = path.stat()
    resolved = path.resolve()
    name = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else resolved.as_posix()
    if stat.st_size <= HASHED_FILE_BYTES:
        return {"path": name, "size": stat.st_size, "sha256": _sha256(path)}
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
    return {"recipe_sha256": recipe.sha256, "cascade": _version("cascade"), "inputs": inputs}


def _stale_reason(old: dict[str, Any], new: dict[str, Any]) -> str | None:
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


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


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
        reason = _stale_reason(previous, fingerprint) if previous else "the build here predates input fingerprints"
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


def recipe_tokenizer(recipe: Recipe) -> str | None:
    """The tokenizer the mix is tokenized with: `tokenizer.name_or_path`, else the model it will train
    (`train.model.tokenizer`, then `train.model.name_or_path`), else None (the embedded one), so rows of a recipe
    that names only its model are never tokenized for another vocabulary."""
    model = (recipe.train or {}).get("model")
    model = model if isinstance(model, dict) else {}
    return recipe.tokenizer.get("name_or_path") or model.get("tokenizer") or model.get("name_or_path")


def tokenize_and_pack(recipe: Recipe, mix_dir: Path, out: Path, progress: Progress) -> Path:
    """Render + tokenize the mix (packers.tokenize) and pack it into `OUT/packed/` (packers.pack) when the recipe
    has a `pack:` section; otherwise the mix folder is the build's output. Skipped when already done."""
    if recipe.pack is None:
        return mix_dir
    from packers.pack import pack_tokens
    from packers.tokenize import tokenize_samples

    tokens_dir, done = out / "tokenize", out / "tokenize" / ".done"
    settings = dict(recipe.tokenizer)
    settings.pop("template", None)  # the template follows the tokenizer (packers.template); kept for readers
    if not done.is_file():
        progress("tokenize", "running")
        settings.pop("name_or_path", None)
        stats = tokenize_samples(mix_dir / "samples", tokens_dir, tokenizer=recipe_tokenizer(recipe), **settings)
        done.write_text(f"{stats['documents']}\n")
    progress("tokenize", "done")
    if not (out / "packed" / ".done").is_file():
        progress("pack", "running")
        pack_tokens(tokens_dir, out, seed=recipe.seed, **recipe.pack)
        (out / "packed" / ".done").write_text("packed\n")
    progress("pack", "done")
    return out / "packed"
