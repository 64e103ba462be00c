"""Python tool-use tasks: a user request, the tool calls that answer it (with their observations), and the final
answer, in four families (CSV analysis, debugging, documentation look-up, simulation)."""

from __future__ import annotations

import itertools
import math
import random
import re
from dataclasses import dataclass
from typing import Any

from curate.demo_data.text import FILE_STEMS, NAMES, OBJECTS, VERBS

_COLUMNS = ("region city product category store channel supplier team month quarter species sensor station "
            "courier warehouse route vendor plan tier segment").split()
_MEASURES = ("revenue price quantity weight duration temperature distance rating latency score discount "
             "humidity cost margin volume").split()
_PACKAGES = "ledgerly tidyparse geokit stampede orbitlib pipewright quillet farmstat voxel".split()
_DOC_GOALS = {
    "itertools": [("groupby", "group consecutive log lines by their {w} prefix"),
                  ("pairwise", "compare each {w} reading with the next one"),
                  ("accumulate", "compute a running total of {w} amounts")],
    "functools": [("lru_cache", "memoize an expensive {w} lookup"), ("reduce", "fold a list of {w} dicts into one")],
    "collections": [("Counter", "count the most common {w} values"), ("deque", "keep the last {n} {w} events")],
    "heapq": [("nlargest", "pick the top {n} {w} records by score"), ("merge", "merge sorted {w} streams")],
    "bisect": [("bisect_left", "find where a {w} threshold falls in a sorted list")],
    "statistics": [("median", "get the median {w} per group"), ("quantiles", "split {w} values into quartiles")],
    "datetime": [("strptime", "parse {w} timestamps like 2024-{n:02d}-03 14:05")],
}


@dataclass
class ToolTask:
    query: str
    steps: list[tuple[str, dict[str, Any], str]]  # (tool, arguments, observation)
    answer: str
    thought: str


def analysis_task(rng: random.Random) -> ToolTask:
    stem, (c1, c3), c2 = rng.choice(FILE_STEMS), rng.sample(_COLUMNS, 2), rng.choice(_MEASURES)
    agg = rng.choice(["mean", "total", "maximum", "median"])
    thr, op = rng.randint(3, 900), rng.choice([">", ">=", "<"])
    col3 = rng.choice(_MEASURES)
    phrase = rng.choice([
        f"I have a CSV file at data/{stem}_{rng.randint(2019, 2025)}.csv with the columns {c1}, {c2}, {c3} and {col3}."
        f" Could you compute the {agg} {c2} for each {c1}, using only rows where {col3} {op} {thr}?",
        f"In data/{stem}_{rng.randint(2019, 2025)}.csv every row has a {c1}, a {c3}, a {c2} and a {col3} field. "
        f"What is the {agg} of {c2} per {c1} if I ignore rows unless {col3} {op} {thr}?",
        f"Quick analysis request: group data/{stem}.csv by {c1} and report the {agg} {c2}, filtering to {col3} "
        f"{op} {thr} first. The {c3} column can be ignored.",
    ])
    extra = rng.choice(["Sort the result by value.", f"Round to {rng.randint(1, 3)} decimals.",
                        f"I only care about the top {rng.randint(3, 9)} groups.", "Skip rows with empty cells.", ""])
    fn = {"mean": "statistics.fmean", "total": "sum", "maximum": "max", "median": "statistics.median"}[agg]
    path = re.search(r"data/\S+\.csv", phrase).group()  # type: ignore[union-attr]
    code = (f"import csv\nimport statistics\nfrom collections import defaultdict\n\ngroups = defaultdict(list)\n"
            f"with open({path!r}, newline='') as f:\n    for row in csv.DictReader(f):\n"
            f"        if row[{col3!r}] and row[{c2!r}] and float(row[{col3!r}]) {op} {thr}:\n"
            f"            groups[row[{c1!r}]].append(float(row[{c2!r}]))\n"
            f"for key, values in sorted(groups.items()):\n    print(key, round({fn}(values), 2))\n")
    labels = [f"{c1}_{chr(97 + i)}{rng.randint(1, 99)}" for i in range(rng.randint(3, 5))]
    output = "\n".join(f"{lab} {round(rng.uniform(1, 5000), 2)}" for lab in labels)
    answer = (f"Here is the {agg} {c2} per {c1} (rows with {col3} {op} {thr}):\n\n{output}\n\n"
              f"The code I ran:\n\n```python\n{code}```")
    return ToolTask(f"{phrase} {extra}".strip(), [("run_python", {"code": code, "timeout_s": 30},
                                                     f"stdout:\n{output}\nexit code: 0")], answer,
                     f"Group rows of {path} by {c1}, filter on {col3}, aggregate {c2} with {agg}.")


def debug_task(rng: random.Random) -> ToolTask:
    pkg, verb, obj = rng.choice(_PACKAGES), rng.choice(VERBS), rng.choice(OBJECTS)
    func, path = f"{verb}_{obj}", f"{pkg}/{rng.choice(['utils', 'core', 'io', 'text'])}.py"
    n = rng.randint(3, 12)
    arg = [rng.randint(0, 99) for _ in range(n)]
    wrong, right = sum(arg[:-1]), sum(arg)
    query = rng.choice([
        f"The function {func}() in {path} returns {wrong} for the input {arg} but I expected {right}. It looks like "
        f"the last element is skipped. Can you find and fix the bug?",
        f"Bug report from a colleague: {func} in {path} gives {wrong} instead of {right} when called with {arg}. "
        f"Please track it down, fix it and make sure the tests in tests/test_{pkg}.py still pass.",
        f"Why does {pkg}'s {func}({arg}) evaluate to {wrong}? The docstring promises the sum of all items, which "
        f"is {right}. Fix {path} please.",
    ])
    start = rng.randint(10, 80)
    before = (f"def {func}(items):\n    \"\"\"Sum of all {obj} in `items`.\"\"\"\n    total = 0\n"
              f"    for i in range(len(items) - 1):\n        total += items[i]\n    return total\n")
    after = (f"def {func}(items):\n    \"\"\"Sum of all {obj} in `items`.\"\"\"\n    total = 0\n"
             f"    for item in items:\n        total += item\n    return total\n")
    listing = "\n".join(f"{start + i}| {line}" for i, line in enumerate(before.splitlines()))
    steps = [("read_file", {"path": path, "start_line": start, "end_line": start + 6}, listing),
             ("write_file", {"path": path, "content": after, "overwrite": True}, f"wrote {len(after)} bytes"),
             ("run_tests", {"test_path": f"tests/test_{pkg}.py", "keyword": func},
              f"{rng.randint(2, 9)} passed in {rng.uniform(0.1, 2):.2f}s")]
    answer = (f"The loop in {func} ran over `range(len(items) - 1)`, so the last element was never added. I "
              f"iterate over the items directly now; the tests pass.\n\n```python\n{after}```")
    return ToolTask(query, steps, answer, f"Read {func} in {path}; range(len - 1) drops the last item.")


def docs_task(rng: random.Random) -> ToolTask:
    library = rng.choice(sorted(_DOC_GOALS))
    symbol, goal = rng.choice(_DOC_GOALS[library])
    w, n = rng.choice(_COLUMNS + _MEASURES), rng.randint(2, 12)
    goal = goal.format(w=w, n=n)
    detail = rng.choice([f"My data is a list of about {rng.randint(2, 900)} thousand {w} entries from "
                         f"{rng.choice(FILE_STEMS)} exports.",
                         f"I am on Python 3.{rng.randint(9, 12)} and the input comes from {rng.choice(FILE_STEMS)}"
                         f" logs.", f"Speed matters: this runs every {rng.randint(2, 59)} minutes in a cron job.",
                         f"The values arrive already sorted by {rng.choice(_COLUMNS)}."])
    query = rng.choice([f"How do I use {library}.{symbol} to {goal}? {detail}",
                        f"Can you show me an idiomatic way to {goal} with {library}.{symbol}? {detail}",
                        f"I want to {goal}. Is {library}.{symbol} the right tool, and how would I call it? {detail}"])
    doc = f"{library}.{symbol}: see the Python {library} documentation; signature and a short example follow."
    code = (f"from {library} import {symbol}\n\n# {goal}\n{w}_values = load_{w}()  # your data\n"
            f"result = {symbol}({w}_values)\nprint(result)\n")
    answer = f"Yes, `{library}.{symbol}` fits: {goal} in one call.\n\n```python\n{code}```"
    return ToolTask(query, [("lookup_docs", {"library": library, "symbol": symbol}, doc)], answer,
                     f"Look up {library}.{symbol} before answering.")


def simulation_task(rng: random.Random) -> ToolTask:
    sides, trials = rng.choice([4, 6, 8, 10, 12, 20]), rng.choice([10_000, 50_000, 100_000])
    dice = rng.randint(2, int(math.log(10 ** 5, sides)))  # small enough to enumerate exactly
    target = rng.randint(dice, dice * sides)
    seed = rng.randint(1, 9999)
    who = rng.choice(NAMES)
    query = rng.choice([
        f"{who} claims that when rolling {dice} fair {sides}-sided dice the total is at least {target} more than "
        f"half of the time. Write Python that simulates {trials} rolls with seed {seed} and tell me the estimate.",
        f"Estimate by simulation ({trials} trials, random seed {seed}) the probability that {dice} dice with "
        f"{sides} faces sum to {target} or more. Also give the exact value if it is cheap to compute.",
    ])
    code = (f"import itertools\nimport random\n\nrng = random.Random({seed})\n"
            f"hits = sum(sum(rng.randint(1, {sides}) for _ in range({dice})) >= {target} for _ in range({trials}))\n"
            f"exact = sum(sum(r) >= {target} for r in itertools.product(range(1, {sides + 1}), repeat={dice}))\n"
            f"print(hits / {trials}, exact / {sides}**{dice})\n")
    total = sides ** dice
    exact = sum(sum(r) >= target for r in itertools.product(range(1, sides + 1), repeat=dice)) / total
    estimate = round(min(1.0, max(0.0, exact + rng.uniform(-0.004, 0.004))), 4)
    answer = (f"The simulated probability is {estimate} (exact: {exact:.4f}), so the claim is "
              f"{'true' if exact > 0.5 else 'false'}.\n\n```python\n{code}```")
    return ToolTask(query, [("run_python", {"code": code, "timeout_s": 60},
                              f"stdout:\n{estimate} {exact:.6f}\nexit code: 0")], answer,
                     f"Simulate {dice}d{sides} >= {target}; exact by enumeration is cheap.")


TOOL_TASKS = (analysis_task, debug_task, docs_task, simulation_task)

