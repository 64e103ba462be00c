"""The build's stages (ingest → filter → dedup → decontam → mix), each resumable and counted into the ledger, and
the manifest of what they wrote."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow.parquet as pq

from curate.build.counting import count_rows, stage_entry, stage_shards
from curate.build.executor import run_plan
from curate.build.fingerprint import package_version, sha256_file
from curate.build.mix import plan_mix, write_rows
from curate.build.tokens import TemplateTokenCounter, recipe_tokenizer
from curate.decontam import DecontamCheck
from curate.dedup import PipelinePlan, dedup_plans
from curate.documents import SampleShardReader, StageWriter
from curate.filters import build_filter_steps
from curate.recipe import Recipe, SourceSpec

STAGES = ("ingest", "filter", "dedup", "decontam", "mix")
VERSIONED_PACKAGES = ("cascade", "datatrove", "pyarrow", "numpy", "xxhash", "orjson", "unidiff", "jsonschema")
Progress = Callable[[str, str], None]  # (stage, message)


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
        assert entry["samples_out"] == count_rows(self.ingest_files()), "ingest shards disagree with its ledger"
        return entry

    def ingest_files(self) -> list[Path]:
        return sorted((self.out / "ingest" / "sources").glob("*/samples/*.parquet"))

    def datatrove_stage(self, stage_dir: Path, in_files: list[Path], plans: list[PipelinePlan]) -> dict[str, Any]:
        for plan in plans:
            self.progress(stage_dir.name, f"{plan.name}: {plan.tasks} task(s)")
            run_plan(plan, self.out / "logs" / stage_dir.name, self.recipe.executor)
        return stage_entry(count_rows(in_files), stage_dir)

    def filter(self, stage_dir: Path) -> dict[str, Any]:
        files = self.ingest_files()
        needs_tokens = any(c.get("length") is not None and c["length"].max_tokens for c in self.recipe.filters.values())
        counter = TemplateTokenCounter(recipe_tokenizer(self.recipe), self.recipe.tokenizer.get(
            "thinking")) if needs_tokens else None
        steps = [SampleShardReader(files), *build_filter_steps(self.recipe.filters, count_tokens=counter),
                 StageWriter(stage_dir)]
        return self.datatrove_stage(stage_dir, files, [PipelinePlan("filter", steps, len(files))])

    def dedup(self, stage_dir: Path) -> dict[str, Any]:
        files = stage_shards(self.out / "filter", "samples")
        return self.datatrove_stage(stage_dir, files, dedup_plans(files, stage_dir, self.recipe.dedup))

    def decontam(self, stage_dir: Path) -> dict[str, Any]:
        files = stage_shards(self.out / "dedup", "samples")
        steps = [SampleShardReader(files), DecontamCheck(self.recipe.decontam), StageWriter(stage_dir)]
        return self.datatrove_stage(stage_dir, files, [PipelinePlan("decontam", steps, len(files))])

    def mix(self, stage_dir: Path) -> dict[str, Any]:
        files = stage_shards(self.out / "decontam", "samples")
        domains = [d for f in files for d in pq.read_table(f, columns=["domain"])["domain"].to_pylist()]
        picks, entry = plan_mix(domains, self.recipe)
        order = np.random.default_rng([self.recipe.seed, 1]).permutation(len(picks))
        shutil.rmtree(stage_dir / "samples", ignore_errors=True)
        write_rows(files, np.asarray(picks, dtype=np.int64)[order], stage_dir / "samples", self.recipe.mix.shard_rows,
                   stage_dir / "spill")
        assert count_rows(stage_shards(stage_dir, "samples")) == entry["rows_out"]
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
            files.append({"path": rel.as_posix(), "sha256": sha256_file(path), "rows": rows})
        versions = {name: v for name in VERSIONED_PACKAGES if (v := package_version(name)) is not None}
        return {**packed, "recipe": self.recipe.name, "recipe_sha256": self.recipe.sha256, "seed": self.recipe.seed,
                "stages": list(self.ledger), "files": files, "versions": versions}
