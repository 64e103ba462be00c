"""Python competitive-coding reasoning traces in three published shapes: OpenCodeReasoning input/output rows,
Nemotron-Post-Training OpenAI messages with reasoning_content, and NeMo-Gym Responses rollouts."""

from __future__ import annotations

import json
import random
from typing import Any

from curate.demo_data.benchmarks import BENCHMARK_PROBLEMS, HUMANEVAL_SOLUTIONS
from curate.demo_data.code_problems import Problem, make_problem
from curate.demo_data.corpus import Corpus, Entry
from curate.demo_data.text import near_duplicate, random_hex, random_uuid, whitespace_variant

DOMAIN = "code_reasoning"


def _fresh(corpus: Corpus, rng: random.Random) -> Problem:
    return corpus.fresh(DOMAIN, lambda: make_problem(rng), lambda p: [p.statement])


def _answer_text(p: Problem, code: str | None = None) -> str:
    return f"{p.explanation}\n\n```python\n{code or p.code}```"


def _humaneval_prompts() -> list[tuple[str, str]]:
    """(prompt, answer) for the planted HumanEval problems."""
    out = []
    for bench in BENCHMARK_PROBLEMS:
        if bench["benchmark"] == "humaneval":
            idea, body = HUMANEVAL_SOLUTIONS[bench["id"]]
            prompt = f"Complete the following Python function so that its doctests pass.\n\n{bench['problem']}"
            answer = f"{idea}\n\n```python\n{bench['problem']}{body}```"
            out.append((prompt, f"<think>\n{idea} Edge cases: empty input.\n</think>\n\n{answer}"))
    return out


def _opencodereasoning(corpus: Corpus) -> None:
    """OpenCodeReasoning: input / output (<think> inline) / solution."""
    rng = corpus.rng("opencodereasoning")
    f = corpus.file("code_reasoning/opencodereasoning.jsonl", "input_output", DOMAIN)

    def ocr(p: Problem, statement: str | None = None, code: str | None = None) -> dict[str, Any]:
        return {"id": random_hex(rng), "input": statement or p.statement,
                "output": f"<think>\n{p.reasoning}\n</think>\n\n{_answer_text(p, code)}",
                "source": rng.choice(["codeforces", "atcoder", "codechef", "aizu"]), "license": "cc-by-4.0",
                "dataset": "code_contests", "split": "train", "difficulty": p.difficulty, "solution": code or p.code}

    problems = [_fresh(corpus, rng) for _ in range(44)]
    originals = [Entry(ocr(p)) for p in problems]
    copies = []
    for k in range(3):
        rec = dict(originals[k].record, id=random_hex(rng), input=whitespace_variant(originals[k].record["input"]))
        copies.append(("exact", originals[k], Entry(rec)))
    for k in range(3, 6):
        rec = dict(originals[k].record, id=random_hex(rng), input=near_duplicate(originals[k].record["input"], rng))
        copies.append(("near", originals[k], Entry(rec)))
    extra = []
    for prompt, output in _humaneval_prompts():
        rec = {"id": random_hex(rng), "input": prompt, "output": output, "source": "humaneval-mirror",
               "license": "cc-by-4.0", "dataset": "code_contests", "split": "train", "difficulty": "EASY",
               "solution": output.rsplit("```python\n", 1)[1].rstrip("`\n") + "\n"}
        extra.append(corpus.contaminated_entry(f, rec, "humaneval"))
    broken = _fresh(corpus, rng)
    bad_code = broken.code.replace("):\n", ")\n", 1)  # a missing colon: the answer does not parse
    rec = ocr(broken, code=bad_code)
    extra.append(corpus.broken_entry(f, rec, "syntax_error", "filter", "python_code", samples=1))
    truncated = json.dumps(ocr(_fresh(corpus, rng)), ensure_ascii=False)
    extra.append(corpus.broken_entry(f, truncated[: len(truncated) // 2], "malformed_json", "ingest"))
    corpus.fill(f, rng, originals, copies, extra)


def _nemotron_messages(corpus: Corpus) -> None:
    """Nemotron-Post-Training style: OpenAI messages with a separate reasoning_content."""
    rng = corpus.rng("nemotron_messages")
    f = corpus.file("code_reasoning/nemotron_messages.jsonl", "openai_messages", DOMAIN)

    def nemotron(statement: str, p: Problem) -> dict[str, Any]:
        return {"uuid": random_uuid(rng), "license": "cc-by-4.0", "generator": "DeepSeek-R1-0528", "version": "v2",
                "category": "code", "reasoning": "on", "messages": [
                    {"role": "user", "content": statement, "reasoning_content": None},
                    {"role": "assistant", "content": _answer_text(p), "reasoning_content": p.reasoning}]}

    problems = [_fresh(corpus, rng) for _ in range(30)]
    originals = [Entry(nemotron(p.statement, p)) for p in problems]
    copies = [("exact", originals[0], Entry(nemotron(problems[0].statement.upper(), problems[0]))),
              ("exact", originals[1], Entry(nemotron(whitespace_variant(problems[1].statement), problems[1]))),
              ("near", originals[2], Entry(nemotron(near_duplicate(problems[2].statement, rng), problems[2]))),
              ("near", originals[3], Entry(nemotron(near_duplicate(problems[3].statement, rng), problems[3])))]
    cut = _fresh(corpus, rng)
    rec = nemotron(cut.statement, cut)
    rec["messages"][1] = {"role": "assistant", "reasoning_content": None,
                          "content": f"<think>\n{cut.reasoning[: len(cut.reasoning) // 2]}"}
    extra = [corpus.broken_entry(f, rec, "unclosed_think", "ingest")]
    corpus.fill(f, rng, originals, copies, extra)


def _gym_rollouts(corpus: Corpus) -> None:
    """NeMo-Gym rollouts: Responses items (reasoning summary + output message); no native id, keyed by position."""
    rng = corpus.rng("gym_rollouts")
    f = corpus.file("code_reasoning/gym_rollouts.jsonl", "responses", DOMAIN)

    def rollout(p: Problem, incomplete: bool = False) -> dict[str, Any]:
        output = [{"id": f"rs_{random_hex(rng)}", "type": "reasoning", "summary": [
            {"type": "summary_text", "text": p.reasoning}]}]
        if not incomplete:
            output.append({"id": f"msg_{random_hex(rng)}", "type": "message", "role": "assistant",
                           "status": "completed",
                           "content": [{"type": "output_text", "text": _answer_text(p), "annotations": []}]})
        return {"responses_create_params": {
                    "input": [{"role": "user", "content": f"Solve in Python 3 (read stdin, write stdout).\n\n"
                                                          f"{p.statement}"}],
                    "tools": [], "max_output_tokens": 16384, "temperature": 0.6},
                "response": {"id": f"resp_{random_hex(rng)}", "model": "nemotron-cascade-demo", "object": "response",
                             "output": output, "incomplete_details": {"reason": "max_output_tokens"} if incomplete
                             else None},
                "reward": 1.0 if not incomplete else 0.0}

    originals = [Entry(rollout(_fresh(corpus, rng))) for _ in range(16)]
    extra = [corpus.broken_entry(f, rollout(_fresh(corpus, rng), incomplete=True), "truncated_generation", "ingest")]
    corpus.fill(f, rng, originals, [], extra)


def build(corpus: Corpus) -> None:
    _opencodereasoning(corpus)
    _nemotron_messages(corpus)
    _gym_rollouts(corpus)
