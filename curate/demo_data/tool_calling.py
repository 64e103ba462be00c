"""Python tool-calling samples in two published shapes: LLaMA-Factory ShareGPT (function_call / observation
turns) and OpenAI chat messages with tool_calls."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from curate.demo_data.corpus import Corpus, Entry
from curate.demo_data.text import near_duplicate, random_hex, whitespace_variant
from curate.demo_data.tool_tasks import TOOL_TASKS, ToolTask, analysis_task

DOMAIN = "code_tool_calling"

TOOL_SYSTEM_PROMPT = (
    "You are PyPilot, a careful Python engineering assistant working inside a sandboxed project checkout. You can "
    "call tools to run Python code, read and write files, look up library documentation and run the test suite. "
    "Guidelines:\n"
    "1. Before changing a file, read the relevant part of it; never guess at code you have not seen.\n"
    "2. Prefer small, verifiable steps: run code to check an assumption instead of reasoning about it at length.\n"
    "3. Python code you run must be self-contained, use only the standard library unless the user says otherwise, "
    "and print its results explicitly.\n"
    "4. Tool calls must use exactly the parameters declared in the tool schemas, with the declared types.\n"
    "5. Never run commands that delete data outside the project directory, access the network or install "
    "packages.\n"
    "6. When a test fails, quote the assertion that failed and explain the cause before proposing a fix.\n"
    "7. Keep answers concise: state the result first, then show the final Python code in one fenced block.\n"
    "8. If a request is ambiguous, make the most reasonable assumption, state it, and proceed.\n"
    "The current working directory is the project root. Timeouts are in seconds; long-running code should be "
    "avoided. Files are UTF-8 encoded. Line numbers in read_file are 1-based and inclusive.")

_STRING = {"type": "string"}
PYTHON_TOOLS: list[dict[str, Any]] = [
    {"name": "run_python", "description": "Run a self-contained Python 3.11 snippet in the sandbox and return its "
     "stdout, stderr and exit code.", "parameters": {"type": "object", "properties": {
         "code": {**_STRING, "description": "The Python source to execute."},
         "timeout_s": {"type": "integer", "minimum": 1, "maximum": 120, "description": "Wall-clock limit."}},
         "required": ["code"]}},
    {"name": "read_file", "description": "Read a text file of the project, optionally a line range.",
     "parameters": {"type": "object", "properties": {
         "path": {**_STRING, "description": "Path relative to the project root."},
         "start_line": {"type": "integer", "minimum": 1}, "end_line": {"type": "integer", "minimum": 1}},
         "required": ["path"]}},
    {"name": "write_file", "description": "Write a text file of the project.", "parameters": {
        "type": "object", "properties": {
            "path": {**_STRING, "description": "Path relative to the project root."},
            "content": {**_STRING, "description": "The full new content of the file."},
            "overwrite": {"type": "boolean", "description": "Replace an existing file."}},
        "required": ["path", "content"]}},
    {"name": "lookup_docs", "description": "Return the documentation of a symbol of a standard-library module.",
     "parameters": {"type": "object", "properties": {
         "library": {"type": "string", "enum": ["itertools", "functools", "collections", "datetime", "statistics",
                                                "pathlib", "re", "heapq", "bisect", "csv"]},
         "symbol": {**_STRING, "description": "Function or class name inside the library."}},
         "required": ["library", "symbol"]}},
    {"name": "run_tests", "description": "Run pytest on a test file and return the summary.", "parameters": {
        "type": "object", "properties": {
            "test_path": _STRING, "keyword": {**_STRING, "description": "Only tests matching this -k expression."},
            "verbose": {"type": "boolean"}},
        "required": ["test_path"]}},
]


def _sharegpt(task: ToolTask, query: str | None = None) -> dict[str, Any]:
    """glaive-function-calling via LLaMA-Factory: function_call / observation turns, tools as a JSON string."""
    turns = [{"from": "human", "value": query or task.query}]
    for tool, args, observation in task.steps:
        turns.append({"from": "function_call", "value": json.dumps({"name": tool, "arguments": args})})
        turns.append({"from": "observation", "value": observation})
    turns.append({"from": "gpt", "value": task.answer})
    return {"conversations": turns, "system": TOOL_SYSTEM_PROMPT, "tools": json.dumps(PYTHON_TOOLS)}


def _openai_tools(task: ToolTask, rng: random.Random, query: str | None = None) -> dict[str, Any]:
    """OpenAI chat messages: tool_calls with JSON-string arguments, tool results by id, OpenAI tool schemas."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": TOOL_SYSTEM_PROMPT},
                                      {"role": "user", "content": query or task.query}]
    for k, (tool, args, observation) in enumerate(task.steps):
        call_id = f"call_{random_hex(rng, 24)}"
        messages.append({"role": "assistant", "content": "", "reasoning_content": task.thought if k == 0 else None,
                         "tool_calls": [{"id": call_id, "type": "function",
                                         "function": {"name": tool, "arguments": json.dumps(args)}}]})
        messages.append({"role": "tool", "tool_call_id": call_id, "name": tool, "content": observation})
    messages.append({"role": "assistant", "content": task.answer})
    return {"id": f"chatcmpl-{random_hex(rng, 20)}", "messages": messages,
            "tools": [{"type": "function", "function": t} for t in PYTHON_TOOLS]}


def _fresh(corpus: Corpus, rng: random.Random, make: Callable[[random.Random], ToolTask] | None = None) -> ToolTask:
    """A task (of family `make`, else of a random family) whose query is far from every earlier one."""
    return corpus.fresh(DOMAIN, lambda: (make or rng.choice(TOOL_TASKS))(rng), lambda t: [t.query])


def _sharegpt_file(corpus: Corpus) -> None:
    rng = corpus.rng("python_tools_sharegpt")
    f = corpus.file("code_tool_calling/python_tools_sharegpt.json", "sharegpt", DOMAIN, container="json")
    tasks = [_fresh(corpus, rng) for _ in range(40)]
    originals = [Entry(_sharegpt(t)) for t in tasks]
    copies = [("exact", originals[0], Entry(_sharegpt(tasks[0], whitespace_variant(tasks[0].query)))),
              ("exact", originals[1], Entry(_sharegpt(tasks[1]))),
              ("near", originals[2], Entry(_sharegpt(tasks[2], near_duplicate(tasks[2].query, rng)))),
              ("near", originals[3], Entry(_sharegpt(tasks[3], near_duplicate(tasks[3].query, rng))))]
    orphan = _sharegpt(_fresh(corpus, rng))
    orphan["conversations"] = [t for t in orphan["conversations"] if t["from"] != "function_call"]
    corpus.fill(f, rng, originals, copies, [corpus.broken_entry(f, orphan, "orphan_tool_result", "ingest")])


def _openai_file(corpus: Corpus) -> None:
    rng = corpus.rng("python_tools")
    f = corpus.file("code_tool_calling/python_tools.jsonl", "openai_messages", DOMAIN)
    tasks = [_fresh(corpus, rng) for _ in range(40)]
    originals = [Entry(_openai_tools(t, rng)) for t in tasks]
    copies = [("exact", originals[0], Entry(_openai_tools(tasks[0], rng, tasks[0].query.lower()))),
              ("exact", originals[1], Entry(_openai_tools(tasks[1], rng))),
              ("near", originals[2], Entry(_openai_tools(tasks[2], rng, near_duplicate(tasks[2].query, rng)))),
              ("near", originals[3], Entry(_openai_tools(tasks[3], rng, near_duplicate(tasks[3].query, rng))))]
    empty = _openai_tools(_fresh(corpus, rng), rng)
    empty["messages"][-1] = {"role": "assistant", "content": ""}
    mistyped = _openai_tools(_fresh(corpus, rng, analysis_task), rng)
    call = mistyped["messages"][2]["tool_calls"][0]["function"]
    call["arguments"] = json.dumps({**json.loads(call["arguments"]), "timeout_s": "30"})
    extra = [corpus.broken_entry(f, empty, "empty_assistant", "ingest"),
             corpus.broken_entry(f, mistyped, "argument_type_mismatch", "filter", "tool_calls", samples=1)]
    corpus.fill(f, rng, originals, copies, extra)


def build(corpus: Corpus) -> None:
    _sharegpt_file(corpus)
    _openai_file(corpus)
