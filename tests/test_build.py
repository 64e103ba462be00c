"""`cascade build` end to end: the ledger adds up, planted problems are removed and nothing else, the manifest is
identical across runs, worker counts and a kill + resume."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from curate.build import run_build
from curate.recipe import load_recipe
from curate.sample_io import iter_samples
from tests.conftest import PROJECT_ROOT

WORDS = [f"{a}{b}" for a in ("ba", "de", "fi", "go", "hu", "ja", "ke", "lu") for b in range(150)]


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def record(question: str, answer: str = "The answer follows from the argument above. It is 7.") -> dict:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, realdata) -> dict:
    """A recipe over one planted file (math) and one real file (ProofNet proofs), decontaminated against MATH-500."""
    root = tmp_path_factory.mktemp("corpus")
    rng = random.Random(0)
    originals = [words(rng, 60) + "?" for _ in range(60)]
    exact = [originals[i].upper() for i in range(5)]  # case-only copies
    near = []
    for i in range(5, 10):
        w = originals[i].split()
        w[30] = "changed"
        near.append(" ".join(w))
    math500 = [json.loads(line)["problem"] for line in
               (realdata / "benchmarks/math500/math500_test.jsonl").read_text().splitlines()[:40]]
    long_problems = [p for p in math500 if len(p.split()) > 25][:4]
    contaminated = [f"Solve the following.\n\n{p}" for p in long_problems]
    lines = [json.dumps(record(q)) for q in originals + exact + near + contaminated]
    lines += ['{"messages": [{"role": "user", "content": "broken', json.dumps({"messages": []})]
    (root / "planted.jsonl").write_text("\n".join(lines) + "\n")
    recipe = {
        "name": "test-build", "seed": 7,
        "sources": [{"path": "planted.jsonl", "domain": "math"},
                    {"path": str(realdata / "math_proofs/proofnet_valid.jsonl"), "domain": "math_proof"}],
        "filters": {"default": {"structure": {}, "length": {"min_chars": 10}},
                    "math": {"length": {"max_tokens": 4000}},  # the packer's template tokenizer counts these
                    "math_proof": {"proof": {"min_chars": 20}}},
        "dedup": {"keep": "first"},
        "decontam": {"benchmarks": [{"name": "math500", "path": str(realdata / "benchmarks/math500/math500_test.jsonl"),
                                     "field": "problem"}]},
        "mix": {"math": {"epochs": 2.0}, "math_proof": {"count": 50}, "shard_rows": 64},
        "pack": {"seq_len": 16384, "rows_per_shard": 4},
    }
    (root / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    return {"recipe": root / "recipe.yaml", "exact": exact, "near": near, "contaminated": contaminated,
            "originals": originals}


@pytest.fixture(scope="module")
def first_build(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "out"
    final = run_build(corpus["recipe"], out, workers=1)
    assert final == out / "packed"
    return out


def stage_rows(out: Path, stage: str, folder: str) -> list[dict]:
    return [row for f in sorted((out / stage / folder).glob("*.parquet")) for row in pq.read_table(f).to_pylist()]


def test_ledger_adds_up_and_planted_problems_are_removed(first_build, corpus):
    ledger = orjson.loads((first_build / "ledger.json").read_bytes())["stages"]
    assert list(ledger) == ["ingest", "filter", "dedup", "decontam", "mix"]
    for name, stage in ledger.items():
        assert stage["in"] == stage["kept"] + stage["dropped"] + stage["duplicates"], name
        assert stage["dropped"] == sum(stage["dropped_by_reason"].values())
        assert stage["duplicates"] == sum(stage["duplicates_by_kind"].values())
    assert ledger["filter"]["in"] == ledger["ingest"]["samples_out"]
    planted_source = ledger["ingest"]["per_source"][0]
    assert planted_source["source"].endswith("planted.jsonl") and planted_source["dropped"] == 2  # the broken ones

    def first_user(row: dict) -> str:
        return next(m["content"] for m in row["messages"] if m["role"] == "user")

    dups = stage_rows(first_build, "dedup", "duplicates")
    assert sorted(first_user(r) for r in dups) == sorted(corpus["exact"] + corpus["near"])
    reasons = {first_user(r): r["reason"] for r in dups}
    assert {reasons[q] for q in corpus["exact"]} == {"exact_duplicate"}
    assert {reasons[q] for q in corpus["near"]} == {"near_duplicate"}
    kept_ids = {r["id"] for r in stage_rows(first_build, "dedup", "samples")}
    assert all(json.loads(r["extra"])["kept_id"] in kept_ids for r in dups)

    contaminated = stage_rows(first_build, "decontam", "rejects")
    assert sorted(first_user(r) for r in contaminated) == sorted(corpus["contaminated"])
    assert all(json.loads(r["extra"])["benchmark"] == "math500" for r in contaminated)

    mix = ledger["mix"]["per_domain"]
    assert mix["math"]["rows_out"] == 2 * mix["math"]["available"] == 2 * 60
    assert mix["math_proof"]["rows_out"] == 50
    assert sum(1 for _ in iter_samples(first_build / "mix")) == ledger["mix"]["rows_out"] == 170

    manifest = orjson.loads((first_build / "manifest.json").read_bytes())
    paths = {f["path"] for f in manifest["files"]}
    assert {"mix/samples/00000.parquet", "dedup/duplicates/00000.parquet", "packed/part-00000.parquet"} <= paths
    assert manifest["totals"]["packed_samples"] == 170  # the packer's totals, kept in the manifest
    for f in manifest["files"]:
        assert pq.ParquetFile(first_build / f["path"]).metadata.num_rows == f["rows"]


def test_manifest_identical_across_runs_and_worker_counts(first_build, corpus, tmp_path):
    out = tmp_path / "two_workers"
    run_build(corpus["recipe"], out, workers=2)
    assert (out / "manifest.json").read_bytes() == (first_build / "manifest.json").read_bytes()
    assert (out / "ledger.json").read_bytes() == (first_build / "ledger.json").read_bytes()


def test_killed_build_resumes_to_the_same_manifest(first_build, corpus, tmp_path):
    out = tmp_path / "killed"
    code = f"from curate.build import run_build; run_build({str(corpus['recipe'])!r}, {str(out)!r}, workers=1)"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out / "dedup" / "work" / "meta").is_dir() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "manifest.json").exists(), "the build finished before it could be killed"
    run_build(corpus["recipe"], out, workers=1)
    assert (out / "manifest.json").read_bytes() == (first_build / "manifest.json").read_bytes()


def test_report_and_clusters_commands(first_build):
    from cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["report", str(first_build)])
    assert result.exit_code == 0, result.output
    assert "exact_duplicate" in result.output and "decontam" in result.output
    result = runner.invoke(app, ["clusters", str(first_build)])
    assert result.exit_code == 0 and "dup0000000" in result.output
    result = runner.invoke(app, ["clusters", str(first_build), "--id", "dup0000000"])
    assert result.exit_code == 0 and "kept" in result.output
    assert "near" in result.output or "exact" in result.output
    assert runner.invoke(app, ["report", str(first_build / "nowhere")]).exit_code == 1


def test_clusters_command_reads_folders_with_quotes_in_their_names(first_build, tmp_path):
    from cli import app

    out = tmp_path / "it's a build"
    shutil.copytree(first_build / "dedup" / "work", out / "dedup" / "work",
                    ignore=shutil.ignore_patterns("sigs", "buckets", "common"))
    result = CliRunner().invoke(app, ["clusters", str(out), "--id", "dup0000000"])
    assert result.exit_code == 0, result.output
    assert "kept" in result.output


def test_changed_recipe_rebuilds_and_foreign_folders_are_refused(tmp_path):
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(record(f"question number {i} about {i * 7}")) + "\n"
                                                 for i in range(6)))
    recipe = {"name": "small", "sources": [{"path": "data.jsonl", "domain": "math"}], "mix": {"math": {"count": 3}}}
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(recipe))
    out = tmp_path / "out"
    run_build(path, out)
    (out / "train").mkdir()
    (out / "train" / "keep.txt").write_text("a trainer's files are not the build's")
    path.write_text(yaml.safe_dump({**recipe, "mix": {"math": {"count": 5}}}))
    run_build(path, out)
    assert orjson.loads((out / "ledger.json").read_bytes())["stages"]["mix"]["rows_out"] == 5
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["recipe_sha256"] == load_recipe(path).sha256
    assert (out / "train" / "keep.txt").is_file()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("not a build")
    with pytest.raises(ValueError, match="holds no build"):
        run_build(path, foreign)


def test_changed_sources_or_benchmarks_rebuild(tmp_path):
    rng = random.Random(4)
    questions = [words(rng, 20) for _ in range(6)]
    data, bench = tmp_path / "data.jsonl", tmp_path / "bench.jsonl"
    data.write_text("".join(json.dumps(record(q)) + "\n" for q in questions[:4]))
    bench.write_text(json.dumps({"problem": words(rng, 20)}) + "\n")
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"name": "fp", "sources": [{"path": "data.jsonl", "domain": "math"}],
                                    "decontam": {"benchmarks": [{"name": "b", "path": "bench.jsonl",
                                                                 "field": "problem"}]}}))
    out, messages = tmp_path / "out", []

    def ledger() -> dict:
        messages.clear()
        run_build(path, out, progress=lambda stage, message: messages.append(message))
        return orjson.loads((out / "ledger.json").read_bytes())["stages"]

    assert ledger()["mix"]["rows_out"] == 4
    data.write_text("".join(json.dumps(record(q)) + "\n" for q in questions))  # a changed source
    assert ledger()["mix"]["rows_out"] == 6
    assert messages[0] == "rebuilding from scratch: inputs changed (data.jsonl)"
    bench.write_text(json.dumps({"problem": questions[5]}) + "\n")  # a changed benchmark
    stages = ledger()
    assert stages["decontam"]["dropped"] == 1 and stages["mix"]["rows_out"] == 5
    assert messages[0] == "rebuilding from scratch: inputs changed (bench.jsonl)"
    stamp = orjson.loads((out / "build.json").read_bytes())
    assert [i["path"] for i in stamp["inputs"]] == ["data.jsonl", "bench.jsonl"]  # relative to the recipe
    assert stamp["inputs"][1]["sha256"] == hashlib.sha256(bench.read_bytes()).hexdigest()
    stages_done = (out / "mix" / ".done").stat().st_mtime_ns
    ledger()  # nothing changed: every stage resumes
    assert (out / "mix" / ".done").stat().st_mtime_ns == stages_done


def test_same_recipe_and_data_in_two_folders_build_the_same_manifest(tmp_path):
    for where in ("a", "b/deeper"):
        folder = tmp_path / where / "project"
        (folder / "data" / "more").mkdir(parents=True)
        rng = random.Random(8)
        (folder / "data" / "one.jsonl").write_text("".join(json.dumps(record(words(rng, 15))) + "\n" for _ in range(3)))
        (folder / "data" / "more" / "two.jsonl").write_text(json.dumps(record(words(rng, 15))) + "\n")
        (folder / "r.yaml").write_text(yaml.safe_dump({
            "name": "moved", "sources": [{"path": "data", "domain": "math"}], "pack": {"seq_len": 2048}}))
        run_build(folder / "r.yaml", tmp_path / where / "out")
    (a, b) = (tmp_path / where / "out" for where in ("a", "b/deeper"))
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()
    assert (a / "ledger.json").read_bytes() == (b / "ledger.json").read_bytes()
    assert {s.source for s in iter_samples(a / "mix" / "samples")} == {"data/one.jsonl", "data/more/two.jsonl"}


def test_demo_corpus_is_regenerated_for_the_recipe_seed(tmp_path):
    from curate.build import ensure_demo_corpus

    recipe = tmp_path / "demo.yaml"
    root = ensure_demo_corpus(recipe, seed=0)
    files = {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    first = next(iter(files))
    first.write_text("edited by hand")
    ensure_demo_corpus(recipe, seed=1)
    assert (root / "planted.json").read_bytes() != files[root / "planted.json"]  # another seed, another corpus
    ensure_demo_corpus(recipe, seed=0)
    assert {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()} == files


def test_demo_recipe_removes_exactly_what_the_demo_corpus_planted(tmp_path):
    from curate.demo_data import sample_id_for

    recipe = tmp_path / "demo.yaml"
    recipe.write_text((PROJECT_ROOT / "recipes" / "demo.yaml").read_text())
    out = tmp_path / "out"
    run_build(recipe, out)
    planted = json.loads((tmp_path / "demo_corpus" / "planted.json").read_text())["planted"]
    corpus = Path()  # a build labels demo sources relative to the demo corpus

    def ids(keys: list[str]) -> set[str]:
        return {sample_id_for(corpus, k) for k in keys}

    dups = {r["id"]: (r["reason"], json.loads(r["extra"])["kept_id"]) for r in stage_rows(out, "dedup", "duplicates")}
    expected = {sample_id_for(corpus, dup): (f"{kind}_duplicate", sample_id_for(corpus, orig))
                for kind, pairs in (("exact", planted["exact_duplicates"]), ("near", planted["near_duplicates"]))
                for orig, dup in pairs}
    assert dups == expected

    contaminated = {r["id"]: json.loads(r["extra"])["benchmark"] for r in stage_rows(out, "decontam", "rejects")}
    assert contaminated == {sample_id_for(corpus, c["key"]): c["benchmark"] for c in planted["contaminated"]}

    rejects = {(r["filter"], r["reason"]) for r in stage_rows(out, "filter", "rejects")}
    broken_in_filter = [b for b in planted["broken"] if b["stage"] == "filter"]
    assert rejects == {(b["check"], b["expected_reason"]) for b in broken_in_filter}
    assert {r["id"] for r in stage_rows(out, "filter", "rejects")} == ids([b["key"] for b in broken_in_filter])
    ledger = orjson.loads((out / "ledger.json").read_bytes())["stages"]
    assert ledger["ingest"]["dropped"] == sum(b["stage"] == "ingest" for b in planted["broken"])
    assert (out / "packed").is_dir() and list((out / "packed").glob("part-*.parquet"))


def test_build_command(tmp_path):
    from cli import app

    (tmp_path / "data.jsonl").write_text("".join(json.dumps(record(f"question {i} asks about {i * 11} apples")) + "\n"
                                                 for i in range(4)))
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"name": "cli", "sources": [{"path": "data.jsonl", "domain": "math"}]}))
    runner = CliRunner()
    result = runner.invoke(app, ["build", str(path), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "mix" in result.output and (tmp_path / "out" / "mix" / "samples" / "00000.parquet").is_file()
    result = runner.invoke(app, ["build", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o2")])
    assert result.exit_code == 1 and "missing.yaml" in result.output
    path.write_text(yaml.safe_dump({"name": "cli", "sources": [{"path": "data.jsonl", "domain": "maths"}]}))
    result = runner.invoke(app, ["build", str(path), "--out", str(tmp_path / "o3")])
    assert result.exit_code == 1 and "sources[0].domain: unknown domain 'maths'" in result.output


def test_write_rows_streams_in_the_given_order_whatever_the_spill_size(first_build, tmp_path):
    from curate.build import write_rows

    files = sorted((first_build / "decontam" / "samples").glob("*.parquet"))
    ids = [i for f in files for i in pq.read_table(f, columns=["id"])["id"].to_pylist()]
    order = np.random.default_rng(0).permutation(len(ids) * 2) % len(ids)  # every row twice
    write_rows(files, order, tmp_path / "big", 37, tmp_path / "spill_big")
    write_rows(files, order, tmp_path / "tiny", 37, tmp_path / "spill_tiny", spill_bytes=1)  # spill every batch
    big, tiny = sorted((tmp_path / "big").glob("*.parquet")), sorted((tmp_path / "tiny").glob("*.parquet"))
    assert [p.read_bytes() for p in big] == [p.read_bytes() for p in tiny]
    assert [i for p in big for i in pq.read_table(p, columns=["id"])["id"].to_pylist()] == [ids[k] for k in order]
    assert all(pq.ParquetFile(p).metadata.num_rows == 37 for p in big[:-1])
    assert not (tmp_path / "spill_big").exists()
