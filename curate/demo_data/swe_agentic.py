"""SWE agentic trajectories in two published shapes: nebius/SWE-agent-trajectories (SWE-agent discussion +
command turns) and SWE-Gym OpenHands trajectories (OpenAI messages with tool_calls)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from curate.demo_data.corpus import Corpus, Entry
from curate.demo_data.swe_bugs import Bug, make_bug, malformed_patch, numbered_lines
from curate.demo_data.text import near_duplicate, random_hex

DOMAIN = "swe_agentic"

SWE_AGENT_SYSTEM = (
    "SETTING: You are an autonomous programmer, and you're working directly in the command line with a special "
    "interface.\n\nThe special interface consists of a file editor that shows you 100 lines of a file at a time.\n"
    "In addition to typical bash commands, you can also use the following commands to help you navigate and edit "
    "files.\n\nCOMMANDS:\nopen <path> [<line_number>] - opens the file at the given path in the editor\n"
    "goto <line_number> - moves the window to show <line_number>\nfind_file <file_name> [<dir>] - finds all files "
    "with the given name\nsearch_file <search_term> [<file>] - searches for search_term in file\n"
    "edit <start_line>:<end_line>\n<replacement_text>\nend_of_edit - replaces lines start through end\n"
    "create <filename> - creates and opens a new file\nsubmit - submits your current code and terminates the "
    "session\n\nRESPONSE FORMAT:\nYour shell prompt is formatted as follows:\n(Open file: <path>) <cwd> $\n"
    "You need to format your output using two fields; discussion and command.")
SWE_AGENT_INSTRUCTIONS = (
    "INSTRUCTIONS:\nNow, you're going to solve this issue on your own. Your terminal session has started and "
    "you're in the repository's root directory. Edit all the files you need to and run any checks or tests that "
    "you want. When you're satisfied with all of the changes you've made, you can submit your changes to the code "
    "base by simply running the submit command.")


def _nebius(bug: Bug, rng: random.Random, run: int, patch: str | None = None, issue: str | None = None,
            resolved: bool = True) -> dict[str, Any]:
    """nebius/SWE-agent-trajectories: system_prompt, user observations, `ai` turns of discussion + command."""
    root = f"/{bug.repo_name}"
    prompt = lambda f: f"\n(Open file: {f})\n(Current directory: {root})\nbash-$"  # noqa: E731
    window = numbered_lines(bug.before, max(1, bug.line - 5), bug.line + 8)
    new_line = bug.after[bug.line - 1].rstrip("\n")
    ai = [
        "Let's first reproduce the issue with the snippet from the report.\n```\ncreate reproduce.py\n```",
        f"Now paste the reproduction code.\n```\nedit 1:1\n{bug.repro}end_of_edit\n```",
        "Run it to see the current behaviour.\n```\npython reproduce.py\n```",
        f"The bug reproduces. Let's find `{bug.file_name}`.\n```\nfind_file "
        f"\"{bug.file_name}\"\n```",
        f"Open the file around `{bug.func}`.\n```\nopen {bug.path} {bug.line}\n```",
        f"Line {bug.line} is the culprit; fix it.\n```\nedit {bug.line}:{bug.line}\n{new_line}\nend_of_edit\n```",
        "Run the reproduction again.\n```\npython reproduce.py\n```",
        "The output is now correct. Remove the script and submit.\n```\nrm reproduce.py\n```",
        "```\nsubmit\n```",
    ]
    observations = [
        f"[File: {root}/reproduce.py (1 lines total)]\n1:" + prompt(f"{root}/reproduce.py"),
        f"[File: {root}/reproduce.py ({bug.repro.count(chr(10))} lines total)]\n{bug.repro}" + prompt(
            f"{root}/reproduce.py"),
        bug.actual + prompt(f"{root}/reproduce.py"),
        f"Found 1 matches for \"{bug.file_name}\" in {root}:\n{root}/{bug.path}" + prompt("n/a"),
        f"[File: {root}/{bug.path} ({len(bug.before)} lines total)]\n{window}" + prompt(f"{root}/{bug.path}"),
        "File updated. Please review the changes and make sure they are correct." + prompt(f"{root}/{bug.path}"),
        bug.expected + prompt(f"{root}/{bug.path}"),
        "Your command ran successfully and did not produce any output." + prompt(f"{root}/{bug.path}"),
    ]
    trajectory: list[dict[str, Any]] = [
        {"role": "system", "system_prompt": SWE_AGENT_SYSTEM, "text": None, "mask": False, "cutoff_date": "01.01.2023"},
        {"role": "user", "system_prompt": None, "mask": False, "cutoff_date": None,
         "text": f"We're currently solving the following issue within our repository. Here's the issue text:\n"
                 f"ISSUE:\n{issue or bug.issue}\n\n{SWE_AGENT_INSTRUCTIONS}" + prompt("n/a")}]
    for k, text in enumerate(ai):
        trajectory.append({"role": "ai", "system_prompt": None, "text": text, "mask": True, "cutoff_date": None})
        if k < len(observations):
            trajectory.append({"role": "user", "system_prompt": None, "text": observations[k], "mask": False,
                               "cutoff_date": None})
    return {"instance_id": f"{bug.instance_id}_{run}", "model_name": "swe-agent-llama-70b", "target": resolved,
            "trajectory": trajectory, "exit_status": "submitted", "generated_patch": patch or bug.patch(),
            "eval_logs": f"Will execute following command for apply_patch:\ncd /{bug.repo_name} && git "
                         f"apply -v /swebench_matterhorn/prediction_patch.patch\n"}


OPENHANDS_SYSTEM = (
    "You are a helpful assistant that can interact with a computer to solve tasks.\n<IMPORTANT>\n* If user provides "
    "a path, you should NOT assume it's relative to the current working directory. Instead, you should explore "
    "the file system to find the file before working on it.\n* When configuring git credentials, use \"openhands\" "
    "as the user.name and \"openhands@all-hands.dev\" as the user.email by default, unless explicitly instructed "
    "otherwise.\n* The assistant MUST NOT include comments in the code unless they are necessary to describe "
    "non-obvious behavior.\n</IMPORTANT>")
OPENHANDS_TOOLS = [
    {"type": "function", "function": {"name": "execute_bash", "description": "Execute a bash command in the "
     "terminal.", "parameters": {"type": "object", "properties": {"command": {"type": "string", "description":
                                 "The bash command to execute."}}, "required": ["command"]}}},
    {"type": "function", "function": {"name": "str_replace_editor", "description": "Custom editing tool for "
     "viewing, creating and editing files.", "parameters": {"type": "object", "properties": {
         "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert", "undo_edit"]},
         "path": {"type": "string"}, "old_str": {"type": "string"}, "new_str": {"type": "string"},
         "view_range": {"type": "array", "items": {"type": "integer"}}}, "required": ["command", "path"]}}},
    {"type": "function", "function": {"name": "finish", "description": "Finish the interaction when the task is "
     "complete.", "parameters": {"type": "object", "properties": {}}}},
]


def _openhands(bug: Bug, rng: random.Random, run: int, issue: str | None = None) -> dict[str, Any]:
    """SWE-Gym/OpenHands-Sampled-Trajectories: OpenAI messages with tool_calls, tools, resolved, test_result."""
    workdir = f"/workspace/{bug.repo_name}"
    changed = bug.before[bug.line - 1]
    def_line = next(i for i, line in enumerate(bug.before, 1) if line.startswith(f"def {bug.func}("))
    calls = [
        ("I'll start by locating the function from the PR description.", "execute_bash",
         {"command": f"grep -rn 'def {bug.func}' {workdir}"}, f"{workdir}/{bug.path}:{def_line}:def {bug.func}("),
        ("Let me view the implementation.", "str_replace_editor",
         {"command": "view", "path": f"{workdir}/{bug.path}", "view_range": [max(1, bug.line - 4), bug.line + 4]},
         numbered_lines(bug.before, max(1, bug.line - 4), bug.line + 4)),
        ("The problem is on this line; I'll fix it.", "str_replace_editor",
         {"command": "str_replace", "path": f"{workdir}/{bug.path}", "old_str": changed.rstrip("\n"),
          "new_str": bug.after[bug.line - 1].rstrip("\n")}, f"The file {workdir}/{bug.path} has been edited."),
        ("Now let me confirm the fix with the reproduction script.", "execute_bash",
         {"command": f"cd {workdir} && python -c {'; '.join(filter(None, bug.repro.splitlines()))!r}"},
         bug.expected),
    ]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": OPENHANDS_SYSTEM},
        {"role": "user", "content": f"<uploaded_files>\n{workdir}\n</uploaded_files>\nI've uploaded a python code "
         f"repository in the directory {workdir}. Consider the following PR description:\n\n<pr_description>\n"
         f"{issue or bug.issue}</pr_description>\n\nCan you help me implement the necessary changes to the "
         f"repository so that the requirements specified in the <pr_description> are met?"}]
    for k, (thought, tool, args, result) in enumerate(calls):
        call_id = f"toolu_{run:02d}{k}{random_hex(rng, 16)}"
        messages.append({"role": "assistant", "content": thought, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": tool, "arguments": json.dumps(args)}}]})
        messages.append({"role": "tool", "tool_call_id": call_id, "name": tool, "content": f"OBSERVATION:\n{result}"})
    messages.append({"role": "assistant", "content": f"`{bug.func}` is fixed and the reproduction passes.",
                     "tool_calls": [{"id": f"toolu_{run:02d}f{random_hex(rng, 16)}", "type": "function",
                                     "function": {"name": "finish", "arguments": "{}"}}]})
    return {"instance_id": bug.instance_id, "run_id": f"gpt-4o-2024-08-06_maxiter_50_N_v2.1-no-hint-run_{run}",
            "resolved": True, "messages": messages, "tools": OPENHANDS_TOOLS,
            "test_result": {"git_patch": bug.patch()}}


def _fresh_bug(corpus: Corpus, rng: random.Random, issue_prompt: Callable[[Bug], str]) -> Bug:
    """A bug whose issue, as `issue_prompt` quotes it to the agent, is far from every earlier one."""
    return corpus.fresh(DOMAIN, lambda: make_bug(rng), lambda bug: [issue_prompt(bug)])


def _swe_agent_issue(bug: Bug) -> str:
    return f"ISSUE:\n{bug.issue}\n\n{SWE_AGENT_INSTRUCTIONS}"


def _openhands_issue(bug: Bug) -> str:
    return f"<pr_description>\n{bug.issue}</pr_description> the repository"


def _nebius_file(corpus: Corpus) -> None:
    rng = corpus.rng("nebius")
    f = corpus.file("swe_agentic/nebius_trajectories.json", "nebius_swe_agent", DOMAIN, container="json")
    bugs = [_fresh_bug(corpus, rng, _swe_agent_issue) for _ in range(24)]
    originals = [Entry(_nebius(b, rng, rng.randint(0, 20), resolved=rng.random() < 0.8)) for b in bugs]
    copies = [("exact", originals[0], Entry(_nebius(bugs[0], rng, 21))),
              ("exact", originals[1], Entry(_nebius(bugs[1], rng, 22))),
              ("near", originals[2], Entry(_nebius(bugs[2], rng, 23, issue=near_duplicate(bugs[2].issue, rng)))),
              ("near", originals[3], Entry(_nebius(bugs[3], rng, 24, issue=near_duplicate(bugs[3].issue, rng))))]
    bad = _fresh_bug(corpus, rng, _swe_agent_issue)
    rec = _nebius(bad, rng, 1, patch=malformed_patch(bad.patch()))
    extra = [corpus.broken_entry(f, rec, "malformed_patch", "filter", "swe", samples=1)]
    corpus.fill(f, rng, originals, copies, extra)


def _openhands_file(corpus: Corpus) -> None:
    rng = corpus.rng("swe_gym_openhands")
    f = corpus.file("swe_agentic/swe_gym_openhands.json", "swe_gym_openhands", DOMAIN, container="json")
    bugs = [_fresh_bug(corpus, rng, _openhands_issue) for _ in range(22)]
    originals = [Entry(_openhands(b, rng, 1)) for b in bugs]
    copies = [("exact", originals[0], Entry(_openhands(bugs[0], rng, 2))),
              ("near", originals[1], Entry(_openhands(bugs[1], rng, 2, near_duplicate(bugs[1].issue, rng))))]
    corpus.fill(f, rng, originals, copies)


def build(corpus: Corpus) -> None:
    _nebius_file(corpus)
    _openhands_file(corpus)
