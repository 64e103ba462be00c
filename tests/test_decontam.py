"""Decontamination against the real benchmark files: contaminated prompts caught (benchmark + n-gram recorded),
clean real prompts kept, bad benchmark specs named."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest

from curate.decontam import BenchmarkSpec, DecontamCheck, DecontamSettings, NgramIndex
from curate.documents import DROP_KEY, normalize_words, to_document
from curate.ingest import ingest
from curate.sample_io import iter_samples
from curate.schema import Message, Sample

BENCHMARKS = [
    ("aime2024", "aime2024/aime24_test.jsonl", "problem"),
    ("aime2025", "aime2025/aime25_test.jsonl", "problem"),
    ("math500", "math500/math500_test.jsonl", "problem"),
    ("olympiadbench", "olympiadbench/olympiadbench_oe_maths_en_test.jsonl", "question"),
    ("imo_answerbench", "imo_answerbench.csv", "Problem"),
    ("humaneval", "humaneval/HumanEval.jsonl", "prompt"),
    ("mbpp", "mbpp/mbpp_test.jsonl", "prompt"),
    ("leetcode", "leetcode_contest/leetcode_20240121-Jul_first20.jsonl", "prompt_sft"),
    ("bfcl", "bfcl/BFCL_v4_simple_python.json", "question"),
    ("swebench", "swebench/swebench_lite_300_ids_problem_statements.jsonl", "problem_statement"),
]


@pytest.fixture(scope="module")
def settings(realdata: Path) -> DecontamSettings:
    specs = [BenchmarkSpec(name, str(realdata / "benchmarks" / rel), field) for name, rel, field in BENCHMARKS]
    return DecontamSettings(benchmarks=specs)


def first(path: Path, field: str, k: int = 0) -> str:
    if path.suffix == ".csv":
        with path.open(newline="") as f:
            return list(csv.DictReader(f))[k][field]
    value = orjson.loads(path.read_bytes().splitlines()[k])[field]
    return value if isinstance(value, str) else value[0][0]["content"]


def user(sid: str, text: str, domain: str = "math") -> Sample:
    return Sample(sid, domain, "test", [Message("user", text), Message("assistant", "answer")])


def run(settings: DecontamSettings, samples: list[Sample]) -> dict[str, dict]:
    out = DecontamCheck(settings).run(to_document(s) for s in samples)
    return {d.id: d.metadata[DROP_KEY] for d in out if DROP_KEY in d.metadata}


def test_contaminated_prompts_caught_with_benchmark_and_ngram(realdata, settings):
    bench = realdata / "benchmarks"
    aime = first(bench / "aime2025/aime25_test.jsonl", "problem", 3)
    humaneval = first(bench / "humaneval/HumanEval.jsonl", "prompt", 10)
    bfcl = first(bench / "bfcl/BFCL_v4_simple_python.json", "question", 5)
    imo = first(bench / "imo_answerbench.csv", "Problem", 2)
    swe = first(bench / "swebench/swebench_lite_300_ids_problem_statements.jsonl", "problem_statement", 7)
    mbpp_short = "Write a function to count the most common words in a dictionary."  # 12 words < n
    planted = {
        "aime": user("aime", "Please solve this carefully.\n\n" + aime.upper().replace("$", " ")),
        "humaneval": user("humaneval", "Complete the function:\n" + humaneval, "code_reasoning"),
        "bfcl": user("bfcl", bfcl, "tool_calling"),
        "imo": user("imo", "Olympiad practice: " + imo),
        "swe": user("swe", "Fix this issue in the repo.\n" + swe[:2000], "swe_agentic"),
        "mbpp": user("mbpp", "Task: " + mbpp_short + " Use Python.", "code_reasoning"),
    }
    dropped = run(settings, list(planted.values()))
    assert set(dropped) == set(planted)
    expected = {"aime": "aime2025", "humaneval": "humaneval", "bfcl": "bfcl", "imo": "imo_answerbench",
                "swe": "swebench", "mbpp": "mbpp"}
    for sid, mark in dropped.items():
        assert mark["reason"] == "contaminated" and mark["benchmark"] == expected[sid], (sid, mark)
        gram = mark["ngram"].split()
        assert len(gram) == (12 if sid == "mbpp" else 13)
        assert mark["ngram"] in " ".join(normalize_words(planted[sid].messages[0].content))


def test_clean_real_prompts_kept(realdata, settings, tmp_path):
    out = tmp_path / "proofnet"
    ingest([str(realdata / "math_proofs/proofnet_valid.jsonl")], "math_proof", out, progress=False)
    out2 = tmp_path / "glaive"
    ingest([str(realdata / "tool_calls/llamafactory_glaive_toolcall_en_demo.json")], "tool_calling", out2,
           progress=False)
    clean = list(iter_samples(out)) + list(iter_samples(out2))
    assert len(clean) > 400
    assert run(settings, clean) == {}
    # A near-miss: the same topic in different words, sharing no 13-gram, stays.
    aime = first(realdata / "benchmarks/aime2025/aime25_test.jsonl", "problem", 0)
    assert run(settings, [user("paraphrase", "What is the sum of the integer bases above nine for which 17 in base b "
                                             "divides 97 in base b?")]) == {}
    assert "17_b" in aime


def test_index_sizes_and_bad_specs(realdata, tmp_path):
    index = NgramIndex([BenchmarkSpec("aime2024", str(realdata / "benchmarks/aime2024/aime24_test.jsonl"), "problem")])
    assert len(index) > 30 * 20
    with pytest.raises(ValueError, match=r"aime24_test\.jsonl: record 0 has no field 'statement'"):
        NgramIndex([BenchmarkSpec("a", str(realdata / "benchmarks/aime2024/aime24_test.jsonl"), "statement")])
    with pytest.raises(ValueError, match="no such file"):
        NgramIndex([BenchmarkSpec("a", str(tmp_path / "missing.jsonl"), "problem")])
    (tmp_path / "b.txt").write_text("x")
    with pytest.raises(ValueError, match="unsupported benchmark format"):
        NgramIndex([BenchmarkSpec("b", str(tmp_path / "b.txt"), "problem")])


def test_name_field_names_each_records_benchmark(tmp_path):
    bench = tmp_path / "mixed.jsonl"
    problems = {"alpha": "Find all primes p such that p squared plus two is also a prime number in the set.",
                "beta": "Write a function that returns the longest strictly increasing run inside a list of ints."}
    bench.write_text("".join(orjson.dumps({"benchmark": b, "problem": p}).decode() + "\n" for b, p in problems.items()))
    settings = DecontamSettings(benchmarks=[BenchmarkSpec("mixed", str(bench), "problem", name_field="benchmark")])
    dropped = run(settings, [user("a", "Homework: " + problems["alpha"]), user("b", problems["beta"].upper()),
                             user("c", "Find all primes p such that p is odd.")])
    assert {k: v["benchmark"] for k, v in dropped.items()} == {"a": "alpha", "b": "beta"}
