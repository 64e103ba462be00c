"""SWE Agentless localization samples: one record per instance holding three prompt-response stages (files,
related elements, edit locations), each a sample of its own."""

from __future__ import annotations

import random
from typing import Any

from curate.demo_data.corpus import Corpus, Entry
from curate.demo_data.swe_bugs import Bug, make_bug
from curate.demo_data.text import near_duplicate

DOMAIN = "swe_agentless"

AGENTLESS_FILE_PROMPT = (
    "Please look through the following GitHub problem description and Repository structure and provide a list of "
    "files that one would need to edit to fix the problem.\n\n### GitHub Problem Description ###\n{issue}\n\n###\n\n"
    "### Repository Structure ###\n{structure}\n\n###\n\nPlease only provide the full path and return at most 5 "
    "files.\nThe returned files should be separated by new lines ordered by most to least important and wrapped "
    "with ```\nFor example:\n```\nfile1.py\nfile2.py\n```")
AGENTLESS_RELATED_PROMPT = (
    "\nPlease look through the following GitHub Problem Description and the Skeleton of Relevant Files.\nIdentify "
    "all locations that need inspection or editing to fix the problem, including directly related areas as well as "
    "any potentially related global variables, functions, and classes.\n\n### GitHub Problem Description ###\n"
    "{issue}\n\n### Skeleton of Relevant Files ###\n\n### File: {path} ###\n```python\n{skeleton}\n```\n\n\n###\n\n"
    "Please provide the complete set of locations as either a class name, a function name, or a variable name.\n"
    "Return just the locations.\n")
AGENTLESS_EDIT_PROMPT = (
    "\nPlease review the following GitHub problem description and relevant files, and provide a set of locations "
    "that need to be edited to fix the issue.\nThe locations can be specified as class names, function or method "
    "names, or exact line numbers that require modification.\n\n### GitHub Problem Description ###\n{issue}\n\n###\n"
    "### {path}\n{code}\n\n\n###\n\nPlease provide the class name, function or method name, or the exact line "
    "numbers that need to be edited.\nReturn just the location(s)\n")


def _agentless(bug: Bug, rng: random.Random, instance_id: str | None = None, issue: str | None = None,
               empty: bool = False) -> dict[str, Any]:
    """Agentless localization output: file / related-element / edit-location prompt-response pairs."""
    issue = issue or bug.issue
    skeleton = "".join(line for line in bug.before if line.startswith(("def ", "import ", '"""'))).replace(
        ":\n", ":\n    ...\n")
    code = "".join(f"{i + 1}|{line}" for i, line in enumerate(bug.before))
    others = [p.strip() for p in bug.structure.splitlines() if p.strip().endswith(".py")]
    files = [bug.path, *rng.sample([o for o in others if o != bug.file_name], 2)]
    answers = [f"```\n{chr(10).join(files)}\n```", f"```\n{bug.path}\nfunction: {bug.func}\n```",
               f"```\n{bug.path}\nfunction: {bug.func}\nline: {bug.line}\n```"]
    if empty:
        answers = ["", "", ""]
    usage = lambda: {"completion_tokens": rng.randint(40, 400), "prompt_tokens": rng.randint(900, 9000)}  # noqa: E731
    return {
        "instance_id": instance_id or bug.instance_id,
        "found_files": files,
        "file_traj": {"prompt": AGENTLESS_FILE_PROMPT.format(issue=issue, structure=bug.structure),
                      "response": answers[0], "usage": usage()},
        "found_related_locs": [[f"function: {bug.func}"], [""], [""]],
        "related_loc_traj": {"prompt": AGENTLESS_RELATED_PROMPT.format(issue=issue, path=bug.path, skeleton=skeleton),
                             "response": answers[1], "usage": usage()},
        "found_edit_locs": [[f"function: {bug.func}\nline: {bug.line}"], [""], [""]],
        "edit_loc_traj": {"prompt": AGENTLESS_EDIT_PROMPT.format(issue=issue, path=bug.path, code=code),
                          "response": [answers[2]], "usage": usage()},
    }


AGENTLESS_PARTS = ["file_level/0", "related_elements/0", "edit_location/0"]


def _agentless_prompts(record: dict[str, Any]) -> list[str]:
    return [record[k]["prompt"] for k in ("file_traj", "related_loc_traj", "edit_loc_traj")]


def build(corpus: Corpus) -> None:
    rng = corpus.rng("agentless")
    f = corpus.file("swe_agentless/agentless_loc.jsonl", "agentless_localization", DOMAIN)
    made = [corpus.fresh(DOMAIN, lambda: (bug := make_bug(rng), _agentless(bug, rng)),
                         lambda pair: _agentless_prompts(pair[1])) for _ in range(28)]
    originals = [Entry(record, AGENTLESS_PARTS, 3) for _, record in made]

    def rerun(bug: Bug, near: bool) -> Entry:
        """The same instance run again under a new id; its issue text reworded by a few words when `near`."""
        record = _agentless(bug, rng, f"{bug.instance_id}-retry", near_duplicate(bug.issue, rng) if near else None)
        return Entry(record, AGENTLESS_PARTS, 3)

    copies = [("exact", originals[0], rerun(made[0][0], near=False)),
              ("near", originals[1], rerun(made[1][0], near=True))]
    skipped = _agentless(make_bug(rng), rng, empty=True)
    extra = [corpus.broken_entry(f, skipped, "no_response", "ingest", parts=AGENTLESS_PARTS[:1])]
    corpus.fill(f, rng, originals, copies, extra)
