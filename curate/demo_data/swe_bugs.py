"""Small Python repositories with one planted bug: the issue that reports it, the file before and after the fix,
its reproduction and patch. Every SWE kind dresses one of these."""

from __future__ import annotations

import difflib
import hashlib
import random
import re
from dataclasses import dataclass

from curate.demo_data.text import FILE_STEMS, OBJECTS, VERBS

_ORGS = "acme-labs openmeteo numfox geodatalab tinyhttp quantkit streamworks pallet-town hexaware bytefarm".split()
_PKG_HEADS = "flux geo tidy stamp orbit pipe quill farm vox ledger plume grid chrono lumen terra".split()
_PKG_TAILS = "table parse kit frame flow graph store cast mesh sync scope forge".split()
_SUBS = "core io utils parsers backends api formats plugins".split()
_MODULES = "reader schema cache formatting dates units resample tokenize registry config loader writer".split()
_OSES = ("Ubuntu 22.04", "macOS 14.4", "Windows 11", "Debian 12", "Fedora 39", "Arch Linux", "Alpine 3.19")
_ACTIVITIES = ("migrating our ETL jobs to the new release", "writing a notebook for the quarterly report",
               "upgrading from the previous minor version", "adding type hints to our wrapper library",
               "debugging a flaky CI job", "porting a script from Python 3.8", "profiling a slow batch run",
               "reviewing a pull request from a new contributor")


@dataclass
class Bug:
    repo: str
    instance_id: str
    path: str
    func: str
    issue: str
    before: list[str]
    after: list[str]
    line: int  # 1-based line of the first changed line
    actual: str  # what the reproduction prints before the fix
    expected: str  # ... and after it
    structure: str
    repro: str

    @property
    def repo_name(self) -> str:
        return self.repo.split("/")[1]

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[1]

    def patch(self) -> str:
        diff = "".join(difflib.unified_diff(self.before, self.after, f"a/{self.path}", f"b/{self.path}", n=3))
        digest = hashlib.sha1("".join(self.before).encode()).hexdigest()
        return f"diff --git a/{self.path} b/{self.path}\nindex {digest[:7]}..{digest[7:14]} 100644\n{diff}"


def _bug_body(rng: random.Random, func: str, obj: str) -> tuple[list[str], list[str], str, str, str, str]:
    """(buggy body, fixed body, call for the reproduction, actual, expected, summary) of one of five bug kinds."""
    kind = rng.randrange(5)
    n = rng.randint(3, 9)
    if kind == 0:
        items = [rng.randint(1, 90) for _ in range(n)]
        body = [f"def {func}(items):\n", f'    """Combine every {obj} in `items`."""\n', "    result = []\n",
                "    for i in range(len(items) - 1):\n", "        result.append(items[i])\n", "    return result\n"]
        fixed = body[:3] + ["    for i in range(len(items)):\n"] + body[4:]
        return body, fixed, f"{func}({items})", str(items[:-1]), str(items), f"drops the last {obj}"
    if kind == 1:
        default = rng.choice(["''", "'n/a'", "'unknown'"])
        body = [f"def {func}(value, default={default}):\n", f'    """Clean one {obj} value."""\n',
                "    text = value.strip()\n", "    return text or default\n"]
        fixed = body[:2] + ["    if value is None:\n", "        return default\n"] + body[2:]
        return (body, fixed, f"{func}(None)", "AttributeError: 'NoneType' object has no attribute 'strip'",
                default.strip("'") or "an empty string", f"crashes on a missing {obj}")
    if kind == 2:
        limit = rng.choice([64, 100, 256, 1000, 4096])
        body = [f"def {func}(size, limit={limit}):\n", f'    """Whether a {obj} of `size` must be split."""\n',
                "    if size > limit:\n", "        return True\n", "    return False\n"]
        fixed = body[:2] + ["    if size >= limit:\n"] + body[3:]
        return body, fixed, f"{func}({limit})", "False", "True", f"does not split a {obj} of exactly the limit"
    if kind == 3:
        wrong, right = rng.choice([("time_out", "timeout"), ("max_retry", "max_retries"), ("encode", "encoding"),
                                   ("delimeter", "delimiter"), ("verbosity", "verbose")])
        value = rng.randint(2, 90)
        body = [f"def {func}(options):\n", f'    """Settings for reading {obj}."""\n',
                f"    {right} = options.get({wrong!r}, None)\n", f"    return {{{right!r}: {right}}}\n"]
        fixed = body[:2] + [f"    {right} = options.get({right!r}, None)\n"] + body[3:]
        return (body, fixed, f"{func}({{{right!r}: {value}}})", f"{{{right!r}: None}}", f"{{{right!r}: {value}}}",
                f"ignores the `{right}` option")
    body = [f"def {func}(item, seen=[]):\n", f'    """Collect unique {obj}."""\n', "    if item not in seen:\n",
            "        seen.append(item)\n", "    return seen\n"]
    fixed = [f"def {func}(item, seen=None):\n", body[1], "    seen = [] if seen is None else seen\n"] + body[2:]
    first, second = rng.sample(OBJECTS, 2)
    return (body, fixed, f"{func}({first!r}); {func}({second!r})", f"[{first!r}, {second!r}]", f"[{second!r}]",
            "keeps state between calls")


def _helper(rng: random.Random) -> list[str]:
    name = f"_{rng.choice(VERBS)}_{rng.choice(OBJECTS)}_{rng.randint(1, 99)}"
    arg = rng.choice(["value", "data", "text", "row", "entry"])
    body = rng.choice([[f"    return {arg}.lower().strip()\n"], [f"    return [x for x in {arg} if x]\n"],
                       [f"    if not {arg}:\n", "        return None\n", f"    return {arg}[0]\n"],
                       [f"    return sorted({arg}, key=str)\n"], [f"    return dict({arg})\n"]])
    return [f"def {name}({arg}):\n", *body, "\n", "\n"]


def _structure(rng: random.Random, pkg: str, path: str) -> str:
    lines = [f"{pkg}/", "    __init__.py"]
    for sub in sorted(rng.sample(_SUBS, 4)):
        lines.append(f"    {sub}/")
        lines += [f"        {m}.py" for m in sorted(rng.sample(_MODULES, rng.randint(2, 5)))]
    lines += ["tests/"] + [f"    test_{m}.py" for m in sorted(rng.sample(_MODULES, 4))]
    lines += ["docs/", "    conf.py", "setup.py"]
    parts = path.split("/")
    lines.insert(2, f"    {parts[1]}/\n        {parts[2]}")
    return "\n".join(lines)


def make_bug(rng: random.Random) -> Bug:
    pkg = rng.choice(_PKG_HEADS) + rng.choice(_PKG_TAILS)
    org, number = rng.choice(_ORGS), rng.randint(100, 9999)
    sub, mod, obj = rng.choice(_SUBS), rng.choice(_MODULES), rng.choice(OBJECTS)
    func = f"{rng.choice(VERBS)}_{obj}"
    path = f"{pkg}/{sub}/{mod}.py"
    body, fixed, call, actual, expected, summary = _bug_body(rng, func, obj)
    head = [f'"""{mod.capitalize()} helpers for {pkg}."""\n', "\n", "from __future__ import annotations\n", "\n",
            f"import {rng.choice(['os', 're', 'json', 'logging', 'itertools'])}\n", "\n", "\n"]
    helpers = [line for _ in range(rng.randint(1, 3)) for line in _helper(rng)]
    tail = [line for _ in range(rng.randint(0, 2)) for line in _helper(rng)]
    before, after = head + helpers + body + ["\n", "\n"] + tail, head + helpers + fixed + ["\n", "\n"] + tail
    line = len(head) + len(helpers) + next(i for i, (a, b) in enumerate(zip(body, fixed, strict=False)) if a != b) + 1
    version = f"{rng.randint(0, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
    repro = f"from {pkg}.{sub}.{mod} import {func}\n\nprint({call})\n" if ";" not in call else \
        f"from {pkg}.{sub}.{mod} import {func}\n\n" + "\n".join(f"print({c.strip()})" for c in call.split(";")) + "\n"
    title = rng.choice([f"`{func}` {summary}", f"{func}() {summary} in {version}",
                        f"Bug: {pkg}.{sub}.{mod}.{func} {summary}"])
    context = rng.choice(_ACTIVITIES)
    issue = (
        f"{title}\n\n### Description\n\nWhile {context} I noticed that `{func}` in `{path}` {summary}. "
        f"{rng.choice(['This used to work', 'I am not sure this ever worked', 'It is easy to miss'])} and it "
        f"{rng.choice(['silently corrupts', 'breaks', 'changes'])} the {rng.choice(FILE_STEMS)} we produce.\n\n"
        f"### Steps to reproduce\n\n```python\n{repro}```\n\n### Actual behaviour\n\n```\n{actual}\n```\n\n"
        f"### Expected behaviour\n\n```\n{expected}\n```\n\n### Environment\n\n- {pkg} {version}\n"
        f"- Python 3.{rng.randint(8, 12)}.{rng.randint(0, 15)}\n- {rng.choice(_OSES)}\n")
    return Bug(f"{org}/{pkg}", f"{org}__{pkg}-{number}", path, func, issue, before, after, line, actual, expected,
                _structure(rng, pkg, path), repro)


def numbered_lines(lines: list[str], start: int, end: int) -> str:
    return "".join(f"{i + 1}:{lines[i]}" for i in range(max(0, start - 1), min(len(lines), end)))


def malformed_patch(patch: str) -> str:
    """A patch whose hunk header promises more lines than the hunk has: unified-diff parsers reject it."""
    return re.sub(r"@@ -(\d+),(\d+) \+(\d+),(\d+) @@", lambda m: f"@@ -{m[1]},{int(m[2]) + 4} +{m[3]},"
                  f"{int(m[4]) + 4} @@", patch, count=1)
