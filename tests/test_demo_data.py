"""The embedded demo corpus: deterministic, ingests as its manifest says, and plants exactly what it records.

Every check runs the real components: `curate.ingest.ingest` over the written files, the registry's detection,
the recipe filter checks on the ingested samples, dedup's distinguishing text, and decontamination's n-gram index.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from curate.adapters import detect
from curate.decontam import BenchmarkSpec, NgramIndex
from curate.dedup.shingles import distinguishing_text
from curate.demo_data import BENCHMARK_PROBLEMS, write_demo_corpus
from curate.demo_data import sample_id_for as sample_id_of_key
from curate.documents import normalize_words, prompt_text, to_document
from curate.filters import CHECKS, parse_filters
from curate.ingest import ingest
from curate.readers import resolve_sources
from curate.sample_io import iter_samples
from curate.schema import Sample

# The checks the demo recipe (recipes/demo.yaml) runs per domain; filter-level planted breakage must trip them and
# nothing else may.
DEMO_FILTERS = {
    "default": {"structure": {}},
    "code_reasoning": {"reasoning": {}, "python_code": {}},
    "code_tool_calling": {"tool_calls": {}},
    "math_proof": {"proof": {"min_chars": 40}},
    "swe_agentic": {"swe": {"require_submission": True}},
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("demo") / "corpus"
    return root, write_demo_corpus(root, seed=0)


@pytest.fixture(scope="module")
def ingested(corpus: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Each corpus file ingested on its own: ledger, rejects and samples (by id) per file."""
    root, manifest = corpus
    out: dict[str, dict] = {}
    for k, entry in enumerate(manifest["files"]):
        work = tmp_path_factory.mktemp(f"ingest{k}")
        ledger = ingest([str(root / entry["path"])], entry["domain"], work, progress=False)
        rejects = [row for f in sorted((work / "rejects").glob("*.parquet")) for row in pq.read_table(f).to_pylist()]
        samples = {s.id: s for s in iter_samples(work / "samples")}
        out[entry["path"]] = {"ledger": ledger, "rejects": rejects, "samples": samples}
    return out


def _all_samples(ingested: dict) -> dict[str, Sample]:
    return {sid: s for part in ingested.values() for sid, s in part["samples"].items()}


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = normalize_words(text)
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_writes_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    first = write_demo_corpus(tmp_path / "a", seed=0)
    # another process with another string-hash seed: nothing may depend on set or dict-of-str iteration order
    code = "import json, sys; from pathlib import Path; from curate.demo_data import write_demo_corpus; " \
           "print(json.dumps(write_demo_corpus(Path(sys.argv[1]), 0)))"
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "b")], capture_output=True, text=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}, check=True)
    second = json.loads(run.stdout)
    write_demo_corpus(tmp_path / "c", seed=1)
    a, b, c = _digests(tmp_path / "a"), _digests(tmp_path / "b"), _digests(tmp_path / "c")
    assert first == second
    assert a == b
    assert set(a) == set(c) and a != c
    assert json.loads((tmp_path / "a" / "planted.json").read_text()) == first
    assert sum((tmp_path / "a" / p).stat().st_size for p in a) < 2 << 20, "the demo corpus must stay small"


def test_manifest_covers_five_kinds_in_several_shapes(corpus: tuple[Path, dict]) -> None:
    root, manifest = corpus
    files = manifest["files"]
    by_domain: dict[str, set[str]] = {}
    for entry in files:
        by_domain.setdefault(entry["domain"], set()).add(entry["format"])
        assert (root / entry["path"]).is_file()
    assert set(by_domain) == {"code_reasoning", "code_tool_calling", "math_proof", "swe_agentic", "swe_agentless"}
    assert all(len(formats) >= 2 for d, formats in by_domain.items() if d != "swe_agentless")
    for domain in by_domain:
        records = sum(e["records"] for e in files if e["domain"] == domain)
        assert 30 <= records <= 130, (domain, records)
    planted = manifest["planted"]
    assert {len(planted[k]) > 0 for k in ("exact_duplicates", "near_duplicates", "contaminated", "broken")} == {True}
    assert {b["expected_reason"] for b in planted["broken"]} >= {
        "malformed_json", "empty_assistant", "orphan_tool_result", "syntax_error", "malformed_patch"}


def test_every_record_has_its_format_and_ingests_as_the_manifest_says(corpus: tuple[Path, dict],
                                                                      ingested: dict) -> None:
    root, manifest = corpus
    broken_ingest = {(b["file"], b["index"]): b["expected_reason"] for b in manifest["planted"]["broken"]
                     if b["stage"] == "ingest"}
    for entry in manifest["files"]:
        part = ingested[entry["path"]]
        ledger = part["ledger"]
        assert ledger["in"] == entry["records"] == ledger["kept"] + ledger["rejected"], entry["path"]
        assert ledger["samples_out"] == entry["samples"] == len(part["samples"]), entry["path"]
        got = {(entry["path"], r["record"]): r["reason"] for r in part["rejects"]}
        want = {k: v for k, v in broken_ingest.items() if k[0] == entry["path"]}
        assert got == want, entry["path"]
        raw = (root / entry["path"]).read_bytes()
        records = orjson.loads(raw) if entry["path"].endswith(".json") else [
            line for line in raw.splitlines() if line.strip()]
        for index, record in enumerate(records):
            if (entry["path"], index) in want and want[(entry["path"], index)] == "malformed_json":
                continue
            record = orjson.loads(record) if isinstance(record, bytes) else record
            assert detect(record).name == entry["format"], (entry["path"], index)


def test_manifest_keys_name_ingested_samples(corpus: tuple[Path, dict], ingested: dict) -> None:
    root, manifest = corpus
    samples = _all_samples(ingested)
    planted = manifest["planted"]
    keys = [k for pair in planted["exact_duplicates"] + planted["near_duplicates"] for k in pair]
    keys += [c["key"] for c in planted["contaminated"]]
    keys += [b["key"] for b in planted["broken"] if b["stage"] == "filter"]
    assert len(keys) == len(set(keys)), "a sample is planted twice"
    for key in keys:
        assert sample_id_of_key(root, key) in samples, key
    for b in planted["broken"]:
        if b["stage"] == "ingest":
            assert sample_id_of_key(root, b["key"]) not in samples, b


def test_filter_breakage_trips_its_check_and_every_other_sample_passes(corpus: tuple[Path, dict],
                                                                      ingested: dict) -> None:
    root, manifest = corpus
    settings = parse_filters(DEMO_FILTERS)
    checks = {key: cls({}) for key, cls in CHECKS.items()}
    expected = {sample_id_of_key(root, b["key"]): (b["check"], b["expected_reason"])
                for b in manifest["planted"]["broken"] if b["stage"] == "filter"}
    failures = {}
    for sid, sample in _all_samples(ingested).items():
        for key, check_settings in settings[sample.domain].items():
            failure = checks[key].check(sample, to_document(sample), check_settings)
            if failure is not None:
                failures[sid] = (key, failure[0])
                break
    assert failures == expected


def test_planted_duplicates_are_close_and_unrelated_samples_are_far(corpus: tuple[Path, dict],
                                                                   ingested: dict) -> None:
    root, manifest = corpus
    samples = _all_samples(ingested)
    planted = manifest["planted"]
    exact = {frozenset(sample_id_of_key(root, k) for k in pair) for pair in planted["exact_duplicates"]}
    near = {frozenset(sample_id_of_key(root, k) for k in pair) for pair in planted["near_duplicates"]}
    for pair in exact:
        a, b = (distinguishing_text(samples[sid]) for sid in pair)
        assert normalize_words(a) == normalize_words(b)
    for pair in near:
        a, b = (distinguishing_text(samples[sid]) for sid in pair)
        assert normalize_words(a) != normalize_words(b)
        assert _jaccard(_shingles(a), _shingles(b)) >= 0.8
    by_domain: dict[str, list[str]] = {}
    for sid, sample in samples.items():
        by_domain.setdefault(sample.domain, []).append(sid)
    for with_answer in (False, True):
        views = {sid: _shingles(distinguishing_text(s, with_answer)) for sid, s in samples.items()}
        for domain, ids in by_domain.items():
            close = [(a, b) for a, b in itertools.combinations(sorted(ids), 2)
                     if frozenset((a, b)) not in exact | near and _jaccard(views[a], views[b]) >= 0.7]
            assert not close, f"{domain}: unplanted near-duplicates {close[:3]} (answers included: {with_answer})"


def test_decontamination_flags_exactly_the_planted_prompts(corpus: tuple[Path, dict], ingested: dict) -> None:
    root, manifest = corpus
    bench = manifest["benchmarks"]
    lines = (root / bench["path"]).read_text().splitlines()
    assert [json.loads(line) for line in lines] == BENCHMARK_PROBLEMS
    index = NgramIndex([BenchmarkSpec("demo", str(root / bench["path"]), bench["field"])], n=13)
    flagged = {sid for sid, s in _all_samples(ingested).items() if index.match(prompt_text(s))}
    planted = {sample_id_of_key(root, c["key"]) for c in manifest["planted"]["contaminated"]}
    assert flagged == planted
    assert {c["benchmark"] for c in manifest["planted"]["contaminated"]} == {"humaneval", "aime2024", "math500"}


def test_planted_prompts_are_verbatim_real_benchmark_problems(realdata: Path, corpus: tuple[Path, dict],
                                                              ingested: dict) -> None:
    """Against the public benchmark files themselves: the planted prompts match them, no other sample does."""
    root, manifest = corpus
    benchmarks = realdata / "benchmarks"
    specs = [BenchmarkSpec("humaneval", str(benchmarks / "humaneval/HumanEval.jsonl"), "prompt"),
             BenchmarkSpec("aime2024", str(benchmarks / "aime2024/aime24_test.jsonl"), "problem"),
             BenchmarkSpec("math500", str(benchmarks / "math500/math500_test.jsonl"), "problem"),
             BenchmarkSpec("aime2025", str(benchmarks / "aime2025/aime25_test.jsonl"), "problem"),
             BenchmarkSpec("mbpp", str(benchmarks / "mbpp/mbpp_test.jsonl"), "prompt"),
             BenchmarkSpec("olympiadbench", str(benchmarks / "olympiadbench/olympiadbench_oe_maths_en_test.jsonl"),
                           "question")]
    index = NgramIndex(specs, n=13)
    flagged = {}
    for sid, sample in _all_samples(ingested).items():
        if hit := index.match(prompt_text(sample)):
            flagged[sid] = hit[0]
    assert flagged == {sample_id_of_key(root, c["key"]): c["benchmark"] for c in manifest["planted"]["contaminated"]}


def test_keys_resolve_the_same_when_a_folder_is_ingested(corpus: tuple[Path, dict]) -> None:
    """A folder source labels its files by path, so keys resolve the same way whether a file or its folder is read."""
    root, manifest = corpus
    labels = {s.label for s in resolve_sources([str(root / "math_proof")])}
    assert labels == {str(root / e["path"]) for e in manifest["files"] if e["path"].startswith("math_proof/")}
