"""Exact and near-duplicate removal: planted duplicates are found and nothing else; shared boilerplate is not."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from curate.build import run_plan
from curate.dedup import DedupSettings, dedup_plans, jaccard, shingles
from curate.documents import render_text
from curate.recipe import ExecutorSettings
from curate.sample_io import iter_samples, write_samples
from curate.schema import Message, Sample, ToolCall

VOCAB = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ra", "si", "tu", "vo", "ze") for b in range(200)]


def prompt(rng: random.Random, words: int = 80) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(words)) + "."


def qa(sid: str, question: str, answer: str = "ok", domain: str = "math", **meta) -> Sample:
    return Sample(sid, domain, "test", [Message("user", question), Message("assistant", answer)], meta=meta)


def edit(rng: random.Random, text: str, n_words: int) -> str:
    words = text.split()
    for i in rng.sample(range(len(words)), n_words):
        words[i] = rng.choice(VOCAB)
    return " ".join(words)


def run_dedup(tmp_path: Path, shards: list[list[Sample]], settings: DedupSettings) -> tuple[dict, dict]:
    """(kept ids, duplicates id -> row) after running the four dedup pipelines on the given shards."""
    files = []
    for k, shard in enumerate(shards):
        files.append(tmp_path / "in" / f"{k:05d}.parquet")
        write_samples(files[-1], shard)
    stage = tmp_path / "dedup"
    for plan in dedup_plans(files, stage, settings):
        run_plan(plan, tmp_path / "logs", ExecutorSettings(workers=1))
    kept = {s.id: s for s in iter_samples(stage / "samples")}
    dups = {}
    for f in sorted((stage / "duplicates").glob("*.parquet")):
        for row in pq.read_table(f).to_pylist():
            dups[row["id"]] = {**orjson.loads(row["extra"]), "reason": row["reason"]}
    return kept, dups


def test_planted_duplicates_found_and_nothing_else(tmp_path):
    rng = random.Random(7)
    originals = [qa(f"o{i:03d}", prompt(rng), answer=f"answer {i}") for i in range(80)]
    exact = [qa(f"x{i}", originals[i].messages[0].content.upper().replace(".", " !"), answer="other")
             for i in range(0, 10)]
    near = [qa(f"n{i}", edit(rng, originals[i].messages[0].content, 2), answer="other") for i in range(10, 25)]
    far = [qa(f"f{i}", edit(rng, originals[i].messages[0].content, 30)) for i in range(25, 35)]  # J well under 0.7
    other_domain = [qa("chat_copy", originals[40].messages[0].content, domain="chat")]
    planted = {s.id for s in exact + near}
    shard_a = originals[:40] + near[:7] + far
    shard_b = originals[40:] + exact + near[7:] + other_domain
    kept, dups = run_dedup(tmp_path, [shard_a, shard_b], DedupSettings())

    assert set(dups) == planted
    assert len(kept) + len(dups) == len(shard_a) + len(shard_b)
    for s in exact:
        assert dups[s.id]["reason"] == "exact_duplicate" and dups[s.id]["kept_id"] == f"o{int(s.id[1:]):03d}"
    for s in near:
        d = dups[s.id]
        assert d["reason"] == "near_duplicate" and d["kept_id"] == f"o{int(s.id[1:]):03d}"
        assert d["jaccard"] >= 0.7
    clusters = {row["id"]: row for f in sorted((tmp_path / "dedup" / "work" / "clusters").glob("*.parquet"))
                for row in pq.read_table(f).to_pylist()}
    for s in exact + near:  # each copy sits in its original's cluster, and the original is that cluster's keeper
        kept_row = clusters[dups[s.id]["kept_id"]]
        assert kept_row["kind"] == "kept" and kept_row["cluster_id"] == dups[s.id]["cluster_id"]
    assert len({dups[s.id]["cluster_id"] for s in exact + near}) == len(planted)  # one cluster per original
    assert "chat_copy" in kept  # dedup is scoped per domain


def test_shared_system_prompt_and_tools_are_not_collapsed(tmp_path):
    rng = random.Random(3)
    system = "You are a careful assistant for a logistics company. " + prompt(rng, 600)
    tools = [{"type": "function", "function": {
        "name": f"tool_{k}", "description": prompt(rng, 60),
        "parameters": {"type": "object", "properties": {"query": {"type": "string", "description": prompt(rng, 30)}},
                       "required": ["query"]}}} for k in range(6)]
    samples = []
    for i in range(40):
        question = prompt(rng, 12)
        call = ToolCall("tool_1", {"query": question[:20]}, "c0")
        samples.append(Sample(f"t{i:02d}", "tool_calling", "test", [
            Message("system", system), Message("user", question), Message("assistant", "", None, [call]),
            Message("tool", "result", tool_call_id="c0"), Message("assistant", "Here it is.")], tools=tools))
    # Whole transcripts are near-identical: shingling them would collapse the set (the failure DESIGN §5 cites).
    whole = [shingles(render_text(s) + str(s.tools), 5) for s in samples[:2]]
    assert jaccard(*whole) > 0.9
    kept, dups = run_dedup(tmp_path, [samples], DedupSettings())
    assert dups == {} and len(kept) == 40


@pytest.mark.parametrize(("keep", "expected"), [("first", "a"), ("longest", "b"), ("score", "c")])
def test_keep_policy(tmp_path, keep, expected):
    rng = random.Random(11)
    text = prompt(rng)
    samples = [qa("a", text, "short", quality=0.1), qa("b", text, "a much longer answer " * 5, quality=0.2),
               qa("c", text, "mid answer", quality=0.9)]
    settings = DedupSettings(keep=keep, score_field="quality" if keep == "score" else None)
    kept, dups = run_dedup(tmp_path, [samples], settings)
    assert set(kept) == {expected}
    assert {d["kept_id"] for d in dups.values()} == {expected}


def test_include_answer_keeps_two_answers_to_one_prompt(tmp_path):
    rng = random.Random(5)
    text = prompt(rng)
    samples = [qa("a", text, prompt(rng, 60)), qa("b", text, prompt(rng, 60))]
    kept, _ = run_dedup(tmp_path / "prompt_only", [samples], DedupSettings())
    assert set(kept) == {"a"}
    kept, _ = run_dedup(tmp_path / "with_answer", [samples], DedupSettings(include_answer=["math"]))
    assert set(kept) == {"a", "b"}


def test_multi_turn_conversations_differ_by_every_user_turn(tmp_path):
    def talk(sid: str, opener: str, reply: str, ask: str) -> Sample:
        return Sample(sid, "chat", "test", [Message("user", opener), Message("assistant", reply),
                                            Message("user", ask), Message("assistant", "Sure.")])

    samples = [talk("a", "Hi", "Hello! How can I help?", "Explain quantum tunnelling"),
               talk("b", "hi!", "Hello! How can I help?", "Write a haiku"),
               talk("c", "HI", "Hi there.", "explain quantum tunnelling!")]
    kept, dups = run_dedup(tmp_path, [samples], DedupSettings())
    assert set(kept) == {"a", "b"} and dups["c"]["reason"] == "exact_duplicate" and dups["c"]["kept_id"] == "a"


def test_samples_without_words_are_never_duplicates(tmp_path):
    samples = [qa("q1", "???", "one"), qa("q2", "!!!", "two"), qa("q3", "...", "three"), qa("q4", "???", "four")]
    kept, dups = run_dedup(tmp_path, [samples], DedupSettings())
    assert dups == {} and set(kept) == {"q1", "q2", "q3", "q4"}


def test_shingles_and_jaccard():
    a = shingles("the quick brown fox jumps over the lazy dog", 5)
    assert jaccard(a, a) == 1.0
    assert jaccard(a, shingles("THE QUICK, brown fox -- jumps over the lazy dog!", 5)) == 1.0
    assert jaccard(a, shingles("the quick brown fox jumps over the lazy dog", 5, scope="chat")) == 0.0
    assert shingles("too short", 5).size == 1  # short texts still get one shingle


def swe_sample(sid: str, issue: str, template: str, domain: str = "swe_agentic") -> Sample:
    prompt = f"{template}\n<issue>\n{issue}\n</issue>\nPlease fix the repository so that the issue is resolved."
    return Sample(sid, domain, "test", [Message("user", prompt), Message("assistant", "I will look at the code.")])


def test_shared_templates_inside_the_prompt_are_not_collapsed(tmp_path):
    rng = random.Random(9)
    template = "You are an autonomous software engineer working in a sandbox. " + prompt(rng, 400)
    issues = [prompt(rng, 40) for _ in range(12)]
    near = edit(rng, issues[0], 1)
    samples = [swe_sample(f"s{i:02d}", issue, template) for i, issue in enumerate(issues)]
    samples.append(swe_sample("near_copy", near, template))
    whole = [shingles(s.messages[0].content, 5) for s in samples[:2]]
    assert jaccard(*whole) > 0.8  # the template dominates the first user turn
    collapsed, _ = run_dedup(tmp_path / "no_template_pass", [samples], DedupSettings(common_shingles=[]))
    assert len(collapsed) < 3
    kept, dups = run_dedup(tmp_path / "default", [samples], DedupSettings())
    assert set(dups) == {"near_copy"} and dups["near_copy"]["kept_id"] == "s00"


def test_real_swe_prompts_of_different_instances_are_kept(realdata, tmp_path):
    from curate.ingest import ingest

    shards = []
    for k, rel in enumerate(["swe_agentic/adp_nebius_SWE-agent-trajectories_sample_raw.json",
                             "swe_agentless/agentless_loc_outputs_first25.jsonl"]):
        ingest([str(realdata / rel)], "swe_agentless" if "agentless" in rel else "swe_agentic", tmp_path / f"i{k}",
               progress=False)
        shards.append(list(iter_samples(tmp_path / f"i{k}")))
    kept, dups = run_dedup(tmp_path / "dedup", shards, DedupSettings())
    assert dups == {} and len(kept) == sum(map(len, shards))
