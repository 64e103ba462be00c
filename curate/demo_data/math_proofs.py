"""Natural-language math proofs and worked solutions in three published shapes: ProofNet rows, OlympiadBench rows
and OpenAI messages."""

from __future__ import annotations

import random
from typing import Any

from curate.demo_data.benchmarks import BENCHMARK_PROBLEMS, MATH_BENCHMARK_SOLUTIONS
from curate.demo_data.corpus import Corpus, Entry
from curate.demo_data.math_problems import Answer, Proof, make_answer, make_proof
from curate.demo_data.text import near_duplicate, random_uuid, whitespace_variant

DOMAIN = "math_proof"
_BOOKS = ("Rudin", "Apostol", "Herstein", "Ireland-Rosen", "Artin", "Axler", "Munkres", "Pugh", "Shakarchi", "Dummit")


def _fresh_proof(corpus: Corpus, rng: random.Random) -> Proof:
    return corpus.fresh(DOMAIN, lambda: make_proof(rng), lambda p: [p.statement])


def _proofnet(corpus: Corpus) -> None:
    """ProofNet: nl_statement / nl_proof (+ Lean formal_statement)."""
    rng = corpus.rng("proofnet")
    f = corpus.file("math_proof/proofnet.jsonl", "proofnet", DOMAIN)
    used: set[str] = set()

    def proofnet(p: Proof, statement: str | None = None, proof: str | None = None) -> dict[str, Any]:
        while (pid := f"{rng.choice(_BOOKS)}|exercise_{rng.randint(1, 12)}_{rng.randint(1, 30)}"
                      f"{rng.choice(['', 'a', 'b'])}") in used:
            pass
        used.add(pid)
        return {"id": pid, "formal_statement": p.formal, "src_header": "import .common\n\nopen real\n",
                "nl_statement": statement or p.statement, "nl_proof": p.proof if proof is None else proof}

    proofs = [_fresh_proof(corpus, rng) for _ in range(36)]
    originals = [Entry(proofnet(p)) for p in proofs]
    copies = [("exact", originals[0], Entry(proofnet(proofs[0], whitespace_variant(proofs[0].statement)))),
              ("exact", originals[1], Entry(proofnet(proofs[1]))),
              ("near", originals[2], Entry(proofnet(proofs[2], near_duplicate(proofs[2].statement, rng)))),
              ("near", originals[3], Entry(proofnet(proofs[3], near_duplicate(proofs[3].statement, rng))))]
    empty = proofnet(_fresh_proof(corpus, rng), proof="")
    short = proofnet(_fresh_proof(corpus, rng), proof="Trivial.")
    extra = [corpus.broken_entry(f, empty, "empty_field", "ingest"),
             corpus.broken_entry(f, short, "proof_too_short", "filter", "proof", samples=1)]
    corpus.fill(f, rng, originals, copies, extra)


def _olympiadbench(corpus: Corpus) -> None:
    """OlympiadBench: question / solution list / final_answer; one sample per solution, id part `<k>`."""
    rng = corpus.rng("olympiadbench")
    f = corpus.file("math_proof/olympiadbench.jsonl", "olympiadbench", DOMAIN)
    ids = iter(rng.sample(range(1000, 9999), 80))

    def olympiad(a: Answer, question: str | None = None, solutions: list[str] | None = None) -> Entry:
        rid = next(ids)
        return Entry({"id": rid, "subfield": a.subfield, "context": None, "question": question or a.question,
                      "solution": [a.solution] if solutions is None else solutions, "final_answer": [a.answer],
                      "is_multiple_answer": False, "unit": None, "answer_type": "Numerical", "error": None},
                     ["0"])

    answers = [corpus.fresh(DOMAIN, lambda: make_answer(rng), lambda a: [a.question]) for _ in range(30)]
    originals = [olympiad(a) for a in answers]
    copies = [("exact", originals[0], olympiad(answers[0])),
              ("exact", originals[1], olympiad(answers[1], whitespace_variant(answers[1].question))),
              ("near", originals[2], olympiad(answers[2], near_duplicate(answers[2].question, rng))),
              ("near", originals[3], olympiad(answers[3], near_duplicate(answers[3].question, rng)))]
    extra = []
    for bench in BENCHMARK_PROBLEMS:
        if bench["id"] in MATH_BENCHMARK_SOLUTIONS:
            solution, final, subfield = MATH_BENCHMARK_SOLUTIONS[bench["id"]]
            planted = olympiad(Answer(bench["problem"], solution, final, subfield))
            extra.append(corpus.contaminated_entry(f, planted.record, bench["benchmark"], planted.parts))
    empty = olympiad(make_answer(rng), solutions=["", "  "])
    extra.append(corpus.broken_entry(f, empty.record, "empty_field", "ingest", parts=empty.parts))
    corpus.fill(f, rng, originals, copies, extra)


def _proof_messages(corpus: Corpus) -> None:
    """Proofs as OpenAI messages (a model-written proof with its reasoning)."""
    rng = corpus.rng("proof_messages")
    f = corpus.file("math_proof/proof_messages.jsonl", "openai_messages", DOMAIN)

    def message(p: Proof) -> Entry:
        uid = random_uuid(rng)
        thought = f"Identify the structure of the claim, then write a complete argument. {p.formal}"
        return Entry({"uuid": uid, "category": "math", "reasoning": "on", "messages": [
            {"role": "user", "content": f"{p.statement}\nGive a complete and rigorous proof."},
            {"role": "assistant", "content": p.proof, "reasoning_content": thought}]}, [uid])

    corpus.fill(f, rng, [message(_fresh_proof(corpus, rng)) for _ in range(16)], [])


def build(corpus: Corpus) -> None:
    _proofnet(corpus)
    _olympiadbench(corpus)
    _proof_messages(corpus)
