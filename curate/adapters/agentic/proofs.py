"""Human-written natural-language proofs and solutions: ProofNet, IMO-ProofBench, OlympiadBench."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.agentic.common import make_sample, require, require_text, single_turn
from curate.adapters.base import Adapter, RecordContext
from curate.schema import Sample, SampleError


class ProofNetAdapter(Adapter):
    """ProofNet: statement → proof (LaTeX, kept verbatim including its proof environment). The Lean statement and
    header go to meta.formal_statement / meta.src_header. A record with an empty `nl_proof` is rejected: it has
    nothing to learn from."""

    name = "proofnet"
    priority = 20
    detect_keys = frozenset({"nl_statement"})

    def detect(self, record: dict[str, Any]) -> bool:
        return "nl_statement" in record and "nl_proof" in record

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        statement = require_text(record, "nl_statement")
        proof = require_text(record, "nl_proof")
        meta = {"problem_id": record.get("id"), "formal_statement": record.get("formal_statement"),
                "src_header": record.get("src_header")}
        yield make_sample(ctx, single_turn(statement, proof, "nl_proof"), meta=meta)


IMO_PROOFBENCH_META = {
    "Problem ID": "problem_id",
    "Grading guidelines": "grading_guidelines",
    "Category": "category",
    "Level": "level",
    "Short Answer": "short_answer",
    "Source": "problem_source",
}


class IMOProofBenchAdapter(Adapter):
    """IMO-ProofBench CSV rows: Problem → Solution; the grading guidelines, category, level, short answer and
    competition source go to meta (under snake_case names)."""

    name = "imo_proofbench"
    priority = 20
    detect_keys = frozenset({"Problem"})

    def detect(self, record: dict[str, Any]) -> bool:
        return "Problem" in record and "Solution" in record

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        problem = require_text(record, "Problem")
        solution = require_text(record, "Solution")
        meta = {name: record.get(column) or None for column, name in IMO_PROOFBENCH_META.items()}
        yield make_sample(ctx, single_turn(problem, solution, "Solution"), meta=meta)


class OlympiadBenchAdapter(Adapter):
    """OlympiadBench: one sample per human solution in `solution` (id part `<k>`), the problem's `context` (when
    present) before the question. The solutions already end in their answer; meta.final_answer keeps the
    answer list for checking, with answer_type, unit, subfield and is_multiple_answer."""

    name = "olympiadbench"
    priority = 20
    detect_keys = frozenset({"question"})

    def detect(self, record: dict[str, Any]) -> bool:
        return "question" in record and isinstance(record.get("solution"), list) and "final_answer" in record

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        question = require_text(record, "question")
        context = record.get("context")
        prompt = f"{context}\n\n{question}" if isinstance(context, str) and context.strip() else question
        solutions = require(record, "solution", list)
        produced = 0
        for k, solution in enumerate(solutions):
            field = f"solution[{k}]"
            if not isinstance(solution, str):
                raise SampleError("bad_type", f"solution must be a string, got {type(solution).__name__}", field)
            if not solution.strip():
                continue
            meta = {"problem_id": record.get("id"), "final_answer": record.get("final_answer"),
                    "answer_type": record.get("answer_type"), "unit": record.get("unit"),
                    "subfield": record.get("subfield"), "is_multiple_answer": record.get("is_multiple_answer"),
                    "solution_index": k}
            yield make_sample(ctx, single_turn(prompt, solution, field), part=str(k), meta=meta)
            produced += 1
        if not produced:
            raise SampleError("empty_field", "no non-empty solution", "solution")
