"""The embedded demo corpus: a small, realistic, deterministic set of raw files in published shapes.

`write_demo_corpus(out_dir, seed)` writes the five seed kinds (Python competitive-coding reasoning traces, Python
tool-call samples, NL math proofs, SWE agentic trajectories, SWE agentless samples) the way their datasets publish
them, so `cascade ingest` / `cascade build` have real work to do offline: every file goes through a real adapter,
and the corpus plants what each curation stage must find — exact duplicates, near duplicates, prompts copied from
public benchmarks, and broken records — listing each in `planted.json` so tests can check that exactly those are
removed. Everything is templated from a seeded `random.Random` (stdlib only, no network, no ../shared).

Keys in the manifest name samples the way ingest ids them: `"<file>::<record key>"`, where the record key is what
the file's adapter passes to `curate.schema.sample_id` (a native id, `<instance_id>/<stage>/<k>` for Agentless,
or the record's position when the shape has no id). `sample_id_for(out_dir, key)` turns one into the sample id.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.schema import sample_id

NGRAM = 5
NEAR_DUP_MIN_JACCARD = 0.85  # planted near-duplicates sit well above the 0.7 dedup threshold
UNRELATED_MAX_JACCARD = 0.5  # generated samples of one domain stay far below it
BENCHMARK_FILE = "benchmarks/demo_benchmarks.jsonl"

# Verbatim problem texts of public benchmarks (HumanEval: MIT, openai/human-eval; AIME 2024 and MATH-500 via
# ZubinGou/math-evaluation-harness, MIT). They are planted into prompts so decontamination has something to catch.
BENCHMARK_PROBLEMS: list[dict[str, str]] = [
    {"benchmark": "humaneval", "id": "HumanEval/0", "problem": (
        'from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n'
        '    """ Check if in given list of numbers, are any two numbers closer to each other than\n'
        '    given threshold.\n    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n    False\n'
        '    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)\n    True\n    """\n')},
    {"benchmark": "humaneval", "id": "HumanEval/4", "problem": (
        'from typing import List\n\n\ndef mean_absolute_deviation(numbers: List[float]) -> float:\n'
        '    """ For a given list of input numbers, calculate Mean Absolute Deviation\n'
        '    around the mean of this dataset.\n    Mean Absolute Deviation is the average absolute difference between'
        ' each\n    element and a centerpoint (mean in this case):\n    MAD = average | x - x_mean |\n'
        '    >>> mean_absolute_deviation([1.0, 2.0, 3.0, 4.0])\n    1.0\n    """\n')},
    {"benchmark": "aime2024", "id": "60", "problem": (
        "Every morning Aya goes for a $9$-kilometer-long walk and stops at a coffee shop afterwards. When she walks "
        "at a constant speed of $s$ kilometers per hour, the walk takes her 4 hours, including $t$ minutes spent in "
        "the coffee shop. When she walks $s+2$ kilometers per hour, the walk takes her 2 hours and 24 minutes, "
        "including $t$ minutes spent in the coffee shop. Suppose Aya walks at $s+\\frac{1}{2}$ kilometers per hour. "
        "Find the number of minutes the walk takes her, including the $t$ minutes spent in the coffee shop.")},
    {"benchmark": "aime2024", "id": "64", "problem": (
        "Let $p$ be the least prime number for which there exists a positive integer $n$ such that $n^{4}+1$ is "
        "divisible by $p^{2}$. Find the least positive integer $m$ such that $m^{4}+1$ is divisible by $p^{2}$.")},
    {"benchmark": "math500", "id": "test/prealgebra/1622.json", "problem": (
        "A regular hexagon can be divided into six equilateral triangles. If the perimeter of one of the triangles "
        "is 21 inches, what is the perimeter, in inches, of the regular hexagon?")},
    {"benchmark": "math500", "id": "test/number_theory/737.json", "problem": (
        "The proper divisors of 12 are 1, 2, 3, 4 and 6. A proper divisor of an integer $N$ is a positive divisor "
        "of $N$ that is less than $N$. What is the sum of the proper divisors of the sum of the proper divisors of "
        "284?")},
]


# ---------------------------------------------------------------- word shingles (mirrors curate.documents)

_WORD_RE = re.compile(r"\w+", re.UNICODE)


def words_of(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    return _WORD_RE.findall("".join(ch for ch in folded if not unicodedata.combining(ch)))


def shingle_set(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    words = words_of(text)
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


# ---------------------------------------------------------------- files, keys and the planted ledger


@dataclass(eq=False)
class _Entry:
    """One raw record (a dict, or a raw line for a broken JSONL record) and the record keys of its samples
    (None: the shape has no native id, so ingest keys it by its position in the file)."""

    record: Any
    keys: list[str | int] | None = None
    samples: int = 1


@dataclass
class _File:
    path: str  # relative to out_dir, posix
    format: str  # the adapter that reads it
    domain: str
    container: str = "jsonl"  # jsonl | json (one array)
    entries: list[_Entry] = field(default_factory=list)

    def keys(self, entry: _Entry) -> list[str]:
        keys = entry.keys if entry.keys is not None else [self.entries.index(entry)]
        return [f"{self.path}::{k}" for k in keys]

    def render(self) -> bytes:
        items = [e.record for e in self.entries]
        if self.container == "json":
            return (json.dumps(items, ensure_ascii=False, indent=1) + "\n").encode()
        lines = [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in items]
        return ("\n".join(lines) + "\n").encode()


class _Corpus:
    """Collects files and what was planted; keeps generated prompts of one domain apart (no accidental dups)."""

    def __init__(self, seed: int):
        self.seed = seed
        self.files: list[_File] = []
        self.pairs: list[tuple[str, _File, _Entry, _Entry]] = []  # (exact|near, file, kept, duplicate)
        self.contaminated: list[tuple[_File, _Entry, str]] = []
        self.broken: list[tuple[_File, _Entry, str, str, str | None]] = []
        self._seen: dict[str, list[set]] = {}

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    def file(self, path: str, fmt: str, domain: str, container: str = "jsonl") -> _File:
        f = _File(path, fmt, domain, container)
        self.files.append(f)
        return f

    def distinct(self, domain: str, *texts: str) -> bool:
        """Register `texts` (distinguishing prompts) if each is far from every earlier one of the domain."""
        sets = [shingle_set(t) for t in texts]
        seen = self._seen.setdefault(domain, [])
        if any(jaccard(s, other) >= UNRELATED_MAX_JACCARD for s in sets for other in seen):
            return False
        if any(jaccard(a, b) >= UNRELATED_MAX_JACCARD for i, a in enumerate(sets) for b in sets[i + 1:]):
            return False
        seen.extend(sets)
        return True

    def fresh(self, domain: str, make: Callable[[], Any], prompts: Callable[[Any], list[str]]) -> Any:
        """Draw from `make` until its prompts are distinct within the domain (the templates are wide enough)."""
        for _ in range(200):
            item = make()
            if self.distinct(domain, *prompts(item)):
                return item
        raise AssertionError(f"demo corpus: templates for {domain} keep producing near-duplicate prompts")

    def fill(self, f: _File, rng: random.Random, originals: list[_Entry],
             copies: list[tuple[str, _Entry, _Entry]], extra: list[_Entry] = ()) -> None:
        """Write `originals` in order with each planted copy (kind, original, copy) at a random later position,
        and `extra` entries (broken or contaminated, already recorded) at random positions."""
        entries = list(originals)
        for kind, original, copy_ in copies:
            entries.insert(rng.randint(entries.index(original) + 1, len(entries)), copy_)
            self.pairs.append((kind, f, original, copy_))
        for entry in extra:
            entries.insert(rng.randint(0, len(entries)), entry)
        f.entries = entries

    def broken_entry(self, f: _File, record: Any, reason: str, stage: str, check: str | None = None,
                     keys: list[str | int] | None = None, samples: int = 0) -> _Entry:
        """A record that must not reach training: rejected by ingest (`stage: ingest`, no samples) or surviving
        ingest and dropped by the filter `check` (`stage: filter`)."""
        entry = _Entry(record, keys, samples if stage == "filter" else 0)
        self.broken.append((f, entry, reason, stage, check))
        return entry

    def contaminated_entry(self, f: _File, record: Any, benchmark: str, keys: list[str | int] | None = None,
                           samples: int = 1) -> _Entry:
        entry = _Entry(record, keys, samples)
        self.contaminated.append((f, entry, benchmark))
        return entry

    def manifest(self) -> dict[str, Any]:
        planted: dict[str, list] = {"exact_duplicates": [], "near_duplicates": [], "contaminated": [], "broken": []}
        for kind, f, kept, dup in self.pairs:
            target = planted["exact_duplicates" if kind == "exact" else "near_duplicates"]
            target.extend([a, b] for a, b in zip(f.keys(kept), f.keys(dup), strict=True))
        for f, entry, benchmark in self.contaminated:
            planted["contaminated"].extend({"key": k, "benchmark": benchmark} for k in f.keys(entry))
        for f, entry, reason, stage, check in self.broken:
            planted["broken"].append({"key": f.keys(entry)[0], "file": f.path, "index": f.entries.index(entry),
                                      "expected_reason": reason, "stage": stage, "check": check})
        return {
            "seed": self.seed,
            "files": [{"path": f.path, "format": f.format, "domain": f.domain, "records": len(f.entries),
                       "samples": sum(e.samples for e in f.entries)} for f in self.files],
            "benchmarks": {"path": BENCHMARK_FILE, "field": "problem"},
            "planted": planted,
        }


def near_duplicate(text: str, rng: random.Random) -> str:
    """`text` with a few words changed or added, keeping word-5-gram Jaccard ≥ NEAR_DUP_MIN_JACCARD."""
    base = shingle_set(text)
    for _ in range(50):
        edited = _edit_words(text, rng)
        if edited != text and words_of(edited) != words_of(text) \
                and jaccard(base, shingle_set(edited)) >= NEAR_DUP_MIN_JACCARD:
            return edited
    raise AssertionError(f"cannot make a close near-duplicate of a {len(words_of(text))}-word text")


_SWAPS = {"find": "determine", "print": "output", "number": "count", "integer": "whole number", "given": "provided",
          "every": "each", "returns": "gives back", "when": "whenever", "should": "must", "large": "big",
          "following": "next", "show": "prove", "prove": "show", "Prove": "Show", "Find": "Determine",
          "error": "exception", "function": "helper", "value": "result", "small": "tiny", "list": "sequence"}
_PREFIXES = ("Hi! ", "Quick question. ", "Please help: ", "Hello, ")
_SUFFIXES = (" Thanks!", " Thanks in advance.", " Any help is appreciated.", " (reposted)")


def _edit_words(text: str, rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(_PREFIXES) + text if rng.random() < 0.5 else text.rstrip() + rng.choice(_SUFFIXES)
    spots = [m for m in re.finditer(r"\b[A-Za-z]{4,}\b", text) if m.group() in _SWAPS]
    if not spots:
        return text.rstrip() + rng.choice(_SUFFIXES)
    m = rng.choice(spots)
    return text[:m.start()] + _SWAPS[m.group()] + text[m.end():]


def whitespace_variant(text: str) -> str:
    """Same words, different spacing: an exact duplicate once normalised."""
    return "  " + text.replace(". ", ".  ", 2).rstrip() + "\n"


# ---------------------------------------------------------------- shared vocabulary

NAMES = ("Alice Bob Carol Dmitri Elena Farid Greta Hiro Ines Jamal Kira Luis Mei Nadia Omar Priya Quinn Rosa Sven "
         "Tariq Uma Viktor Wen Ximena Yusuf Zara Arjun Bianca Cyrus Dalia Emeka Freya Goran Hana Ivo Jonas Kemal "
         "Lena Milo Noor Oskar Paloma Rafael Sakura Teodor Ulla Valentina Wojtek Yara Zoltan").split()
ITEMS = ("lanterns crates marbles tokens coins stamps seashells books tiles cards beads gems candles jars kites "
         "ribbons bottles shells pebbles badges tickets scrolls keys flags bells boxes drums masks lamps "
         "plates").split()
PLACES = ("village market harbour library observatory bakery orchard workshop museum railway station castle garden "
          "lighthouse festival warehouse monastery campus bazaar greenhouse shipyard arcade vineyard studio").split()
ADJECTIVES = ("ancient crimson quiet rusty golden tiny enormous curious fragile noisy polished hidden wooden "
              "silver dusty shiny painted broken striped velvet frozen scented glowing twisted").split()
COLORS = "red blue green amber violet teal ochre white black grey scarlet indigo".split()


def _pick(rng: random.Random, pool: tuple[str, ...] | list[str], k: int = 1) -> list[str]:
    return rng.sample(list(pool), k)


def _ints(rng: random.Random, n: int, lo: int, hi: int) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(n)]


# ---------------------------------------------------------------- Python competitive-coding problems


@dataclass
class _Problem:
    statement: str
    code: str
    reasoning: str
    explanation: str
    difficulty: str


def _story(rng: random.Random) -> tuple[str, str, str, str]:
    name, place, items, adj = rng.choice(NAMES), rng.choice(PLACES), rng.choice(ITEMS), rng.choice(ADJECTIVES)
    friend, color, year = rng.choice(NAMES), rng.choice(COLORS), rng.randint(1650, 2030)
    opening = rng.choice([
        f"{name} runs a small stall at the {place} and keeps a row of {adj} {items}.",
        f"In the {place}, {name} has lined up {adj} {items} along a single shelf.",
        f"Every evening {name} walks through the {place} and counts the {adj} {items} left behind.",
        f"The keeper of the {place}, {name}, stores {adj} {items} in numbered slots.",
        f"Since {year}, the {place} has been famous for its {adj} {items}, and {name} looks after them.",
        f"{name} inherited a {color} cabinet full of {adj} {items} from the old {place}.",
    ])
    second = rng.choice([
        f"{friend} dropped by with a {color} notebook and a puzzle about them.",
        f"Of course {friend} immediately asked a question that {name} could not answer by hand.",
        f"The annual inspection of {year + 1} is close, so everything has to be counted again.",
        f"A {color} label with a number is glued to each of them.",
        f"{friend}, who collects {rng.choice(ITEMS)}, is curious too.",
        "",
    ])
    return f"{opening} {second}".strip(), name, items, place


_PHRASES = {
    "The first line contains": ("The first line contains", "The first line of the input contains",
                                "The input starts with a line containing", "On the first line you are given"),
    "The second line contains": ("The second line contains", "The next line contains", "The second line holds",
                                 "It is followed by a line with"),
    "Print": ("Print", "Output", "Write"),
    "Input\n": ("Input\n", "-----Input-----\n", "Input format\n"),
    "Output\n": ("Output\n", "-----Output-----\n", "Output format\n"),
    "Example\nInput\n": ("Example\nInput\n", "Sample Input\n", "-----Example-----\nInput\n"),
    "\nOutput\n": ("\nOutput\n", "\nSample Output\n", "\nExpected output\n"),
}


def _vary(text: str, rng: random.Random) -> str:
    """Published statements phrase the same sections many ways; so do ours (keeps unrelated problems apart)."""
    for phrase, options in _PHRASES.items():
        text = text.replace(phrase, rng.choice(options), 1)
    return text


def _limits(rng: random.Random) -> tuple[int, str]:
    exp = rng.choice([3, 4, 5, 5, 6])
    mult = rng.choice([1, 2, 3, 5])
    n_max = mult * 10 ** exp
    return n_max, (f"{mult} \\cdot 10^{exp}" if mult > 1 else f"10^{exp}")


def _pairs_divisible(rng: random.Random) -> _Problem:
    opening, name, items, _ = _story(rng)
    n_max, n_tex = _limits(rng)
    k_max = rng.choice([100, 1000, 10 ** 9])
    arr = _ints(rng, rng.randint(7, 12), 0, 999)
    k = rng.randint(2, 7)
    answer = sum((arr[i] + arr[j]) % k == 0 for i in range(len(arr)) for j in range(i + 1, len(arr)))
    var = rng.choice(["values", "nums", "weights", "a"])
    statement = (
        f"{opening} The i-th of the {items} carries the number $a_i$. {name} calls a pair of positions $i < j$ "
        f"{rng.choice(['lucky', 'balanced', 'harmonious', 'matching'])} if $a_i + a_j$ is divisible by $k$. "
        f"Count the {rng.choice(['lucky', 'good', 'valid'])} pairs.\n\n"
        f"Input\nThe first line contains two integers $n$ and $k$ ($1 \\le n \\le {n_tex}$, $1 \\le k \\le {k_max}$). "
        f"The second line contains $n$ integers $a_1, \\ldots, a_n$ ($0 \\le a_i \\le 10^9$).\n\n"
        f"Output\nPrint one integer: the number of pairs.\n\n"
        f"Example\nInput\n{len(arr)} {k}\n{' '.join(map(str, arr))}\nOutput\n{answer}")
    code = (f"import sys\nfrom collections import Counter\n\n\ndef main():\n"
            f"    data = sys.stdin.buffer.read().split()\n    n, k = int(data[0]), int(data[1])\n"
            f"    {var} = list(map(int, data[2:2 + n]))\n    seen = Counter()\n    total = 0\n"
            f"    for x in {var}:\n        r = x % k\n        total += seen[(k - r) % k]\n        seen[r] += 1\n"
            f"    print(total)\n\n\nmain()\n")
    reasoning = (
        f"We need pairs i<j with (a_i + a_j) mod k == 0. With n up to {n_max} a double loop is too slow, so group "
        f"by remainder: a value with remainder r pairs with earlier values of remainder (k - r) mod k. Scan once, "
        f"keep a counter of remainders seen so far. Check the sample: k={k}, array {arr[:4]}... gives {answer}. "
        f"Remainder 0 pairs with remainder 0, and (k - 0) mod k handles that. Answer can reach about n^2/2, fine "
        f"for Python ints.")
    explanation = (f"Group the {items} by the remainder of their number modulo k; each new value pairs with every "
                   f"earlier value whose remainder complements it. This is O(n) time.")
    return _Problem(statement, code, reasoning, explanation, rng.choice(["EASY", "MEDIUM"]))


def _longest_window(rng: random.Random) -> _Problem:
    opening, name, items, place = _story(rng)
    n_max, n_tex = _limits(rng)
    arr = _ints(rng, rng.randint(7, 12), 1, 99)
    budget = rng.randint(100, 300)
    best, left, cur = 0, 0, 0
    for right, x in enumerate(arr):
        cur += x
        while cur > budget:
            cur -= arr[left]
            left += 1
        best = max(best, right - left + 1)
    unit = rng.choice(["coins", "minutes", "grams", "credits", "points"])
    statement = (
        f"{opening} Moving the i-th of the {items} costs $c_i$ {unit}. {name} has a budget of $B$ {unit} and wants "
        f"to move a contiguous block of {items} whose total cost does not exceed $B$. What is the largest number of "
        f"{items} that can be moved at once?\n\n"
        f"Input\nThe first line contains $n$ and $B$ ($1 \\le n \\le {n_tex}$, $1 \\le B \\le 10^{{14}}$). "
        f"The second line contains the costs $c_1, \\ldots, c_n$ ($1 \\le c_i \\le 10^9$).\n\n"
        f"Output\nPrint the maximum length of a block (0 if no single item fits).\n\n"
        f"Example\nInput\n{len(arr)} {budget}\n{' '.join(map(str, arr))}\nOutput\n{best}")
    cost = rng.choice(["cost", "c", "prices"])
    code = (f"import sys\n\n\ndef solve(n, budget, {cost}):\n    best = left = running = 0\n"
            f"    for right in range(n):\n        running += {cost}[right]\n        while running > budget:\n"
            f"            running -= {cost}[left]\n            left += 1\n        best = max(best, right - left + 1)\n"
            f"    return best\n\n\ndef main():\n    data = sys.stdin.read().split()\n"
            f"    n, budget = int(data[0]), int(data[1])\n"
            f"    print(solve(n, budget, [int(x) for x in data[2:2 + n]]))\n"
            f"\n\nif __name__ == \"__main__\":\n    main()\n")
    reasoning = (
        f"All costs are positive, so the window sum only grows when we extend right and only shrinks when we move "
        f"left: classic two pointers. For each right end, shrink from the left while the sum exceeds B={budget}. "
        f"On the sample {arr} the best window has length {best}. n is up to {n_max}, so O(n) is needed; prefix "
        f"sums plus binary search would also work but two pointers is simpler.")
    explanation = f"Two pointers over the {items} at the {place}: extend right, shrink left while over budget."
    return _Problem(statement, code, reasoning, explanation, "MEDIUM")


def _grid_path(rng: random.Random) -> _Problem:
    opening, name, _, place = _story(rng)
    rows, cols = rng.randint(3, 6), rng.randint(4, 7)
    grid = [["." if rng.random() > 0.25 else "#" for _ in range(cols)] for _ in range(rows)]
    grid[0][0] = grid[rows - 1][cols - 1] = "."
    dist = {(0, 0): 0}
    queue = [(0, 0)]
    for r, c in queue:
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = r + dr, c + dc
            if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] == "." and (nr, nc) not in dist:
                dist[(nr, nc)] = dist[(r, c)] + 1
                queue.append((nr, nc))
    answer = dist.get((rows - 1, cols - 1), -1)
    wall = rng.choice(["a fallen tree", "a locked door", "a pile of crates", "a puddle of ink", "a sleeping cat"])
    side = rng.choice([500, 1000, 2000])
    statement = (
        f"{opening} The floor of the {place} is a grid of $n \\times m$ cells; a cell marked '#' holds {wall} and "
        f"cannot be entered. {name} starts in the top-left cell and must reach the bottom-right cell, moving to a "
        f"side-adjacent free cell in one step. Find the minimum number of steps, or report -1 if it is impossible."
        f"\n\nInput\nThe first line contains $n$ and $m$ ($1 \\le n, m \\le {side}$). Each of the next $n$ lines "
        f"holds $m$ characters '.' or '#'.\n\nOutput\nPrint the minimum number of steps or -1.\n\n"
        f"Example\nInput\n{rows} {cols}\n" + "\n".join("".join(r) for r in grid) + f"\nOutput\n{answer}")
    code = ("import sys\nfrom collections import deque\n\n\ndef main():\n    data = sys.stdin.read().split()\n"
            "    n, m = int(data[0]), int(data[1])\n    grid = data[2:2 + n]\n    dist = [[-1] * m for _ in range(n)]\n"
            "    dist[0][0] = 0\n    queue = deque([(0, 0)])\n    while queue:\n        r, c = queue.popleft()\n"
            "        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):\n"
            "            if 0 <= nr < n and 0 <= nc < m and grid[nr][nc] == '.' and dist[nr][nc] < 0:\n"
            "                dist[nr][nc] = dist[r][c] + 1\n                queue.append((nr, nc))\n"
            "    print(dist[n - 1][m - 1])\n\n\nmain()\n")
    reasoning = (
        f"Unweighted shortest path on a grid of up to {side}x{side} cells: BFS from the start, distances in a 2D "
        f"array initialised to -1, which also serves as the answer when the target is unreachable. The sample grid "
        f"is {rows}x{cols}; BFS gives {answer}. Use deque, not list.pop(0), for O(nm).")
    explanation = f"Breadth-first search from the start cell; every cell is visited once, O(nm) for the {place} grid."
    return _Problem(statement, code, reasoning, explanation, rng.choice(["EASY", "MEDIUM"]))


def _non_adjacent(rng: random.Random) -> _Problem:
    opening, name, items, place = _story(rng)
    n_max, n_tex = _limits(rng)
    arr = _ints(rng, rng.randint(7, 12), 0, 500)
    take = skip = 0
    for x in arr:
        take, skip = skip + x, max(take, skip)
    answer = max(take, skip)
    reason = rng.choice(["the alarm would ring", "the owners would notice", "the shelf would tip over",
                         "the guards would get suspicious", "the floor would creak"])
    statement = (
        f"{opening} The i-th of the {items} is worth $v_i$. {name} may collect any set of {items}, but never two "
        f"neighbouring ones, because {reason}. What is the largest total value {name} can collect?\n\n"
        f"Input\nThe first line contains $n$ ($1 \\le n \\le {n_tex}$). The second line contains $v_1, \\ldots, v_n$ "
        f"($0 \\le v_i \\le 10^9$).\n\nOutput\nPrint the maximum total value.\n\n"
        f"Example\nInput\n{len(arr)}\n{' '.join(map(str, arr))}\nOutput\n{answer}")
    code = ("import sys\n\n\ndef best_total(values):\n    take, skip = 0, 0\n    for v in values:\n"
            "        take, skip = skip + v, max(take, skip)\n    return max(take, skip)\n\n\n"
            "n = int(sys.stdin.readline())\nprint(best_total(list(map(int, sys.stdin.readline().split()))[:n]))\n")
    reasoning = (
        f"DP with two states per position: best total if we take item i (then i-1 was skipped) and best if we skip "
        f"it. take_i = skip_(i-1) + v_i, skip_i = max(take_(i-1), skip_(i-1)). On {arr} this yields {answer}. "
        f"n up to {n_max}; O(1) memory.")
    explanation = f"Dynamic programming over the {items} in the {place} with states take/skip."
    return _Problem(statement, code, reasoning, explanation, "EASY")


def _gcd_removal(rng: random.Random) -> _Problem:
    opening, name, items, _ = _story(rng)
    n_max, n_tex = _limits(rng)
    base = rng.choice([2, 3, 4, 6])
    arr = [base * rng.randint(1, 400) for _ in range(rng.randint(6, 10))]
    arr[rng.randrange(len(arr))] = rng.choice([7, 11, 13, 17])
    answer = max(math.gcd(*(arr[:i] + arr[i + 1:])) for i in range(len(arr)))
    statement = (
        f"{opening} Each of the {items} has a size $s_i$. {name} wants to pack them into identical boxes, and the "
        f"largest box size that divides every size is $\\gcd(s_1, \\ldots, s_n)$. {name} may throw away exactly one "
        f"of the {items} first. Find the maximum possible gcd of the remaining sizes.\n\n"
        f"Input\nThe first line contains $n$ ($2 \\le n \\le {n_tex}$). The second line contains $s_1, \\ldots, s_n$ "
        f"($1 \\le s_i \\le 10^9$).\n\nOutput\nPrint the maximum gcd.\n\n"
        f"Example\nInput\n{len(arr)}\n{' '.join(map(str, arr))}\nOutput\n{answer}")
    code = ("import sys\nfrom math import gcd\n\n\ndef main():\n    data = sys.stdin.read().split()\n"
            "    n = int(data[0])\n    s = list(map(int, data[1:1 + n]))\n    prefix = [0] * (n + 1)\n"
            "    suffix = [0] * (n + 2)\n    for i in range(n):\n        prefix[i + 1] = gcd(prefix[i], s[i])\n"
            "    for i in range(n - 1, -1, -1):\n        suffix[i] = gcd(suffix[i + 1], s[i])\n"
            "    print(max(gcd(prefix[i], suffix[i + 1]) for i in range(n)))\n\n\nmain()\n")
    reasoning = (
        f"Removing element i leaves gcd(prefix gcd before i, suffix gcd after i). Precompute both arrays in O(n log "
        f"max). For the sample {arr} removing the odd one out gives {answer}. n up to {n_max}; gcd(0, x) = x makes "
        f"the borders work without special cases.")
    explanation = "Prefix and suffix gcds: the answer is the best gcd(prefix[i], suffix[i+1])."
    return _Problem(statement, code, reasoning, explanation, rng.choice(["MEDIUM", "HARD"]))


def _intervals(rng: random.Random) -> _Problem:
    opening, name, _, place = _story(rng)
    n_max, n_tex = _limits(rng)
    events = sorted((s, s + rng.randint(1, 60)) for s in rng.sample(range(0, 200), rng.randint(5, 9)))
    count, end = 0, -1
    for s, e in sorted(events, key=lambda x: x[1]):
        if s >= end:
            count, end = count + 1, e
    what = rng.choice(["concerts", "lectures", "repair jobs", "tastings", "guided tours", "chess games"])
    statement = (
        f"{opening} Today the {place} hosts $n$ {what}; the i-th one starts at time $l_i$ and ends at time $r_i$. "
        f"{name} can attend a {what[:-1]} only from its start to its end and cannot be in two places at once "
        f"(one may start exactly when the previous one ends). How many {what} can {name} attend at most?\n\n"
        f"Input\nThe first line contains $n$ ($1 \\le n \\le {n_tex}$). Each of the next $n$ lines contains $l_i$ "
        f"and $r_i$ ($0 \\le l_i < r_i \\le 10^9$).\n\nOutput\nPrint the maximum number of {what}.\n\n"
        f"Example\nInput\n{len(events)}\n" + "\n".join(f"{s} {e}" for s, e in events) + f"\nOutput\n{count}")
    code = ("import sys\n\n\ndef main():\n    data = sys.stdin.read().split()\n    n = int(data[0])\n"
            "    spans = sorted(zip(map(int, data[1:2 * n:2]), map(int, data[2:2 * n + 1:2])), key=lambda p: p[1])\n"
            "    count, end = 0, -1\n    for start, finish in spans:\n        if start >= end:\n"
            "            count += 1\n            end = finish\n    print(count)\n\n\nmain()\n")
    reasoning = (
        f"Interval scheduling: sort by end time and greedily take every {what[:-1]} that starts no earlier than the "
        f"last chosen end (touching is allowed, so >=). Exchange argument proves it optimal. Sample gives {count}. "
        f"Sorting {n_max} pairs is fine.")
    explanation = f"Greedy by earliest end time over the {what}; O(n log n)."
    return _Problem(statement, code, reasoning, explanation, "EASY")


PROBLEM_FAMILIES = (_pairs_divisible, _longest_window, _grid_path, _non_adjacent, _gcd_removal, _intervals)


def _problem(rng: random.Random) -> _Problem:
    problem = rng.choice(PROBLEM_FAMILIES)(rng)
    problem.statement = _vary(problem.statement, rng)
    return problem


def _answer_text(p: _Problem, code: str | None = None) -> str:
    return f"{p.explanation}\n\n```python\n{code or p.code}```"


def _hex_id(rng: random.Random, n: int = 32) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uuid(rng: random.Random) -> str:
    h = _hex_id(rng)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


_HUMANEVAL_SOLUTIONS = {
    "HumanEval/0": ("Sort first: the closest pair of numbers is then adjacent, so one pass over neighbours is "
                    "enough.", "    ordered = sorted(numbers)\n    return any(b - a < threshold "
                    "for a, b in zip(ordered, ordered[1:]))\n"),
    "HumanEval/4": ("Compute the mean once, then average the absolute deviations from it.",
                    "    mean = sum(numbers) / len(numbers)\n    return sum(abs(x - mean) for x in numbers) / "
                    "len(numbers)\n"),
}


def _humaneval_prompts() -> list[tuple[str, str]]:
    """(prompt, answer) for the planted HumanEval problems."""
    out = []
    for bench in BENCHMARK_PROBLEMS:
        if bench["benchmark"] == "humaneval":
            idea, body = _HUMANEVAL_SOLUTIONS[bench["id"]]
            prompt = f"Complete the following Python function so that its doctests pass.\n\n{bench['problem']}"
            answer = f"{idea}\n\n```python\n{bench['problem']}{body}```"
            out.append((prompt, f"<think>\n{idea} Edge cases: empty input.\n</think>\n\n{answer}"))
    return out


def _code_reasoning(corpus: _Corpus) -> None:
    domain = "code_reasoning"
    fresh = lambda rng: corpus.fresh(domain, lambda: _problem(rng), lambda p: [p.statement])  # noqa: E731

    # OpenCodeReasoning: input / output (<think> inline) / solution
    rng = corpus.rng("opencodereasoning")
    f = corpus.file("code_reasoning/opencodereasoning.jsonl", "input_output", domain)

    def ocr(p: _Problem, statement: str | None = None, code: str | None = None) -> dict[str, Any]:
        return {"id": _hex_id(rng), "input": statement or p.statement,
                "output": f"<think>\n{p.reasoning}\n</think>\n\n{_answer_text(p, code)}",
                "source": rng.choice(["codeforces", "atcoder", "codechef", "aizu"]), "license": "cc-by-4.0",
                "dataset": "code_contests", "split": "train", "difficulty": p.difficulty, "solution": code or p.code}

    problems = [fresh(rng) for _ in range(44)]
    originals = [_Entry(ocr(p)) for p in problems]
    copies = []
    for k in range(3):
        rec = dict(originals[k].record, id=_hex_id(rng), input=whitespace_variant(originals[k].record["input"]))
        copies.append(("exact", originals[k], _Entry(rec)))
    for k in range(3, 6):
        rec = dict(originals[k].record, id=_hex_id(rng), input=near_duplicate(originals[k].record["input"], rng))
        copies.append(("near", originals[k], _Entry(rec)))
    extra = []
    for prompt, output in _humaneval_prompts():
        rec = {"id": _hex_id(rng), "input": prompt, "output": output, "source": "humaneval-mirror",
               "license": "cc-by-4.0", "dataset": "code_contests", "split": "train", "difficulty": "EASY",
               "solution": output.rsplit("```python\n", 1)[1].rstrip("`\n") + "\n"}
        extra.append(corpus.contaminated_entry(f, rec, "humaneval", [rec["id"]]))
    broken = fresh(rng)
    bad_code = broken.code.replace("):\n", ")\n", 1)  # a missing colon: the answer does not parse
    rec = ocr(broken, code=bad_code)
    extra.append(corpus.broken_entry(f, rec, "syntax_error", "filter", "python_code", [rec["id"]], samples=1))
    truncated = json.dumps(ocr(fresh(rng)), ensure_ascii=False)
    extra.append(corpus.broken_entry(f, truncated[: len(truncated) // 2], "malformed_json", "ingest"))
    for entry in originals + [c[2] for c in copies]:
        entry.keys = [entry.record["id"]]
    corpus.fill(f, rng, originals, copies, extra)

    # Nemotron-Post-Training style: OpenAI messages with a separate reasoning_content
    rng = corpus.rng("nemotron_messages")
    f = corpus.file("code_reasoning/nemotron_messages.jsonl", "openai_messages", domain)

    def nemotron(statement: str, p: _Problem) -> dict[str, Any]:
        return {"uuid": _uuid(rng), "license": "cc-by-4.0", "generator": "DeepSeek-R1-0528", "version": "v2",
                "category": "code", "reasoning": "on", "messages": [
                    {"role": "user", "content": statement, "reasoning_content": None},
                    {"role": "assistant", "content": _answer_text(p), "reasoning_content": p.reasoning}]}

    problems = [fresh(rng) for _ in range(30)]
    originals = [_Entry(nemotron(p.statement, p), []) for p in problems]
    copies = [("exact", originals[0], _Entry(nemotron(problems[0].statement.upper(), problems[0]))),
              ("exact", originals[1], _Entry(nemotron(whitespace_variant(problems[1].statement), problems[1]))),
              ("near", originals[2], _Entry(nemotron(near_duplicate(problems[2].statement, rng), problems[2]))),
              ("near", originals[3], _Entry(nemotron(near_duplicate(problems[3].statement, rng), problems[3])))]
    cut = fresh(rng)
    rec = nemotron(cut.statement, cut)
    rec["messages"][1] = {"role": "assistant", "reasoning_content": None,
                          "content": f"<think>\n{cut.reasoning[: len(cut.reasoning) // 2]}"}
    extra = [corpus.broken_entry(f, rec, "unclosed_think", "ingest", keys=[rec["uuid"]])]
    for entry in originals + [c[2] for c in copies]:
        entry.keys = [entry.record["uuid"]]
    corpus.fill(f, rng, originals, copies, extra)

    # NeMo-Gym rollouts: Responses items (reasoning summary + output message); no native id, keyed by position
    rng = corpus.rng("gym_rollouts")
    f = corpus.file("code_reasoning/gym_rollouts.jsonl", "responses", domain)

    def rollout(p: _Problem, incomplete: bool = False) -> dict[str, Any]:
        output = [{"id": f"rs_{_hex_id(rng)}", "type": "reasoning", "summary": [
            {"type": "summary_text", "text": p.reasoning}]}]
        if not incomplete:
            output.append({"id": f"msg_{_hex_id(rng)}", "type": "message", "role": "assistant", "status": "completed",
                           "content": [{"type": "output_text", "text": _answer_text(p), "annotations": []}]})
        return {"responses_create_params": {
                    "input": [{"role": "user", "content": f"Solve in Python 3 (read stdin, write stdout).\n\n"
                                                          f"{p.statement}"}],
                    "tools": [], "max_output_tokens": 16384, "temperature": 0.6},
                "response": {"id": f"resp_{_hex_id(rng)}", "model": "nemotron-cascade-demo", "object": "response",
                             "output": output, "incomplete_details": {"reason": "max_output_tokens"} if incomplete
                             else None},
                "reward": 1.0 if not incomplete else 0.0}

    originals = [_Entry(rollout(fresh(rng))) for _ in range(16)]
    extra = [corpus.broken_entry(f, rollout(fresh(rng), incomplete=True), "truncated_generation", "ingest")]
    corpus.fill(f, rng, originals, [], extra)


# ---------------------------------------------------------------- Python tool calling

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

_COLUMNS = ("region city product category store channel supplier team month quarter species sensor station "
            "courier warehouse route vendor plan tier segment").split()
_MEASURES = ("revenue price quantity weight duration temperature distance rating latency score discount "
             "humidity cost margin volume").split()
_FILE_STEMS = ("sales orders readings shipments signups invoices trips measurements bookings returns visits "
               "payments deliveries tickets").split()
_VERBS = "parse merge normalize split render compute resolve group flatten validate encode collect".split()
_OBJECTS = "header rows path tokens dates prices labels ranges intervals records names matrix keys".split()
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
class _ToolTask:
    query: str
    steps: list[tuple[str, dict[str, Any], str]]  # (tool, arguments, observation)
    answer: str
    thought: str


def _analysis_task(rng: random.Random) -> _ToolTask:
    stem, (c1, c3), c2 = rng.choice(_FILE_STEMS), _pick(rng, _COLUMNS, 2), rng.choice(_MEASURES)
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
    return _ToolTask(f"{phrase} {extra}".strip(), [("run_python", {"code": code, "timeout_s": 30},
                                                     f"stdout:\n{output}\nexit code: 0")], answer,
                     f"Group rows of {path} by {c1}, filter on {col3}, aggregate {c2} with {agg}.")


def _debug_task(rng: random.Random) -> _ToolTask:
    pkg, verb, obj = rng.choice(_PACKAGES), rng.choice(_VERBS), rng.choice(_OBJECTS)
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
    return _ToolTask(query, steps, answer, f"Read {func} in {path}; range(len - 1) drops the last item.")


def _docs_task(rng: random.Random) -> _ToolTask:
    library = rng.choice(sorted(_DOC_GOALS))
    symbol, goal = rng.choice(_DOC_GOALS[library])
    w, n = rng.choice(_COLUMNS + _MEASURES), rng.randint(2, 12)
    goal = goal.format(w=w, n=n)
    detail = rng.choice([f"My data is a list of about {rng.randint(2, 900)} thousand {w} entries from "
                         f"{rng.choice(_FILE_STEMS)} exports.",
                         f"I am on Python 3.{rng.randint(9, 12)} and the input comes from {rng.choice(_FILE_STEMS)}"
                         f" logs.", f"Speed matters: this runs every {rng.randint(2, 59)} minutes in a cron job.",
                         f"The values arrive already sorted by {rng.choice(_COLUMNS)}."])
    query = rng.choice([f"How do I use {library}.{symbol} to {goal}? {detail}",
                        f"Can you show me an idiomatic way to {goal} with {library}.{symbol}? {detail}",
                        f"I want to {goal}. Is {library}.{symbol} the right tool, and how would I call it? {detail}"])
    doc = f"{library}.{symbol}: see the Python {library} documentation; signature and a short example follow."
    code = (f"from {library} import {symbol}\n\n# {goal}\n{w}_values = load_{w}()  # your data\n"
            f"result = {symbol}({w}_values)\nprint(result)\n")
    answer = f"Yes, `{library}.{symbol}` fits: {goal} in one call.\n\n```python\n{code}```"
    return _ToolTask(query, [("lookup_docs", {"library": library, "symbol": symbol}, doc)], answer,
                     f"Look up {library}.{symbol} before answering.")


def _simulation_task(rng: random.Random) -> _ToolTask:
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
    return _ToolTask(query, [("run_python", {"code": code, "timeout_s": 60},
                              f"stdout:\n{estimate} {exact:.6f}\nexit code: 0")], answer,
                     f"Simulate {dice}d{sides} >= {target}; exact by enumeration is cheap.")


TOOL_TASKS = (_analysis_task, _debug_task, _docs_task, _simulation_task)


def _sharegpt(task: _ToolTask, query: str | None = None) -> dict[str, Any]:
    """glaive-function-calling via LLaMA-Factory: function_call / observation turns, tools as a JSON string."""
    turns = [{"from": "human", "value": query or task.query}]
    for tool, args, observation in task.steps:
        turns.append({"from": "function_call", "value": json.dumps({"name": tool, "arguments": args})})
        turns.append({"from": "observation", "value": observation})
    turns.append({"from": "gpt", "value": task.answer})
    return {"conversations": turns, "system": TOOL_SYSTEM_PROMPT, "tools": json.dumps(PYTHON_TOOLS)}


def _openai_tools(task: _ToolTask, rng: random.Random, query: str | None = None) -> dict[str, Any]:
    """OpenAI chat messages: tool_calls with JSON-string arguments, tool results by id, OpenAI tool schemas."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": TOOL_SYSTEM_PROMPT},
                                      {"role": "user", "content": query or task.query}]
    for k, (tool, args, observation) in enumerate(task.steps):
        call_id = f"call_{_hex_id(rng, 24)}"
        messages.append({"role": "assistant", "content": "", "reasoning_content": task.thought if k == 0 else None,
                         "tool_calls": [{"id": call_id, "type": "function",
                                         "function": {"name": tool, "arguments": json.dumps(args)}}]})
        messages.append({"role": "tool", "tool_call_id": call_id, "name": tool, "content": observation})
    messages.append({"role": "assistant", "content": task.answer})
    return {"id": f"chatcmpl-{_hex_id(rng, 20)}", "messages": messages,
            "tools": [{"type": "function", "function": t} for t in PYTHON_TOOLS]}


def _tool_calling(corpus: _Corpus) -> None:
    domain = "code_tool_calling"

    def fresh(rng: random.Random) -> _ToolTask:
        return corpus.fresh(domain, lambda: rng.choice(TOOL_TASKS)(rng), lambda t: [t.query])

    rng = corpus.rng("python_tools_sharegpt")
    f = corpus.file("code_tool_calling/python_tools_sharegpt.json", "sharegpt", domain, container="json")
    tasks = [fresh(rng) for _ in range(40)]
    originals = [_Entry(_sharegpt(t)) for t in tasks]
    copies = [("exact", originals[0], _Entry(_sharegpt(tasks[0], whitespace_variant(tasks[0].query)))),
              ("exact", originals[1], _Entry(_sharegpt(tasks[1]))),
              ("near", originals[2], _Entry(_sharegpt(tasks[2], near_duplicate(tasks[2].query, rng)))),
              ("near", originals[3], _Entry(_sharegpt(tasks[3], near_duplicate(tasks[3].query, rng))))]
    orphan = _sharegpt(fresh(rng))
    orphan["conversations"] = [t for t in orphan["conversations"] if t["from"] != "function_call"]
    corpus.fill(f, rng, originals, copies, [corpus.broken_entry(f, orphan, "orphan_tool_result", "ingest")])

    rng = corpus.rng("python_tools")
    f = corpus.file("code_tool_calling/python_tools.jsonl", "openai_messages", domain)
    tasks = [fresh(rng) for _ in range(40)]
    originals = [_Entry(_openai_tools(t, rng)) for t in tasks]
    copies = [("exact", originals[0], _Entry(_openai_tools(tasks[0], rng, tasks[0].query.lower()))),
              ("exact", originals[1], _Entry(_openai_tools(tasks[1], rng))),
              ("near", originals[2], _Entry(_openai_tools(tasks[2], rng, near_duplicate(tasks[2].query, rng)))),
              ("near", originals[3], _Entry(_openai_tools(tasks[3], rng, near_duplicate(tasks[3].query, rng))))]
    empty = _openai_tools(fresh(rng), rng)
    empty["messages"][-1] = {"role": "assistant", "content": ""}
    mistyped = _openai_tools(corpus.fresh(domain, lambda: _analysis_task(rng), lambda t: [t.query]), rng)
    call = mistyped["messages"][2]["tool_calls"][0]["function"]
    call["arguments"] = json.dumps({**json.loads(call["arguments"]), "timeout_s": "30"})
    extra = [corpus.broken_entry(f, empty, "empty_assistant", "ingest", keys=[empty["id"]]),
             corpus.broken_entry(f, mistyped, "argument_type_mismatch", "filter", "tool_calls", [mistyped["id"]], 1)]
    for entry in originals + [c[2] for c in copies]:
        entry.keys = [entry.record["id"]]
    corpus.fill(f, rng, originals, copies, extra)


# ---------------------------------------------------------------- natural-language math proofs

_SETTINGS = ("Throughout, all variables are integers unless stated otherwise.", "This is an exercise from a first "
             "course in {topic}.", "The following appeared on a {topic} problem sheet in week {w}.",
             "Recall that a proof by induction needs a base case and an inductive step.", "")
_TOPICS = "number theory, real analysis, algebra, discrete mathematics, elementary inequalities, calculus".split(", ")
_BOOKS = ("Rudin", "Apostol", "Herstein", "Ireland-Rosen", "Artin", "Axler", "Munkres", "Pugh", "Shakarchi", "Dummit")


@dataclass
class _Proof:
    statement: str
    proof: str
    formal: str


def _proof_sum(rng: random.Random) -> _Proof:
    a, b, var = rng.randint(2, 19), rng.randint(1, 30), rng.choice("nmN")
    statement = (f"Prove that for every positive integer ${var}$, $\\sum_{{k=1}}^{{{var}}} ({a}k + {b}) = "
                 f"\\frac{{{var}({a}{var} + {a + 2 * b})}}{{2}}$.")
    proof = (f"\\begin{{proof}}\nWe argue by induction on ${var}$. For ${var} = 1$ the left side is ${a + b}$ and the "
             f"right side is $\\frac{{{a} + {a + 2 * b}}}{{2}} = {a + b}$. Assume the identity for ${var}$. Adding "
             f"the next term ${a}({var}+1) + {b}$ to both sides, the right side becomes "
             f"$\\frac{{{var}({a}{var} + {a + 2 * b}) + 2({a}{var} + {a + b})}}{{2}} = "
             f"\\frac{{({var}+1)({a}({var}+1) + {a + 2 * b})}}{{2}}$, which is the identity for ${var}+1$.\n"
             f"\\end{{proof}}")
    return _Proof(statement, proof, f"theorem sum_linear_{a}_{b} ({var} : ℕ) : ∑ k in range ({var}+1), ({a}*k+{b}) "
                                    f"= {var}*({a}*{var}+{a + 2 * b})/2 :=")


def _proof_divisible(rng: random.Random) -> _Proof:
    c, var = rng.randint(3, 40), rng.choice("nkm")
    statement = f"Prove that ${c}^{{{var}}} - 1$ is divisible by ${c - 1}$ for every positive integer ${var}$."
    proof = (f"\\begin{{proof}}\nSince ${c} \\equiv 1 \\pmod{{{c - 1}}}$, we get ${c}^{{{var}}} \\equiv 1^{{{var}}} "
             f"= 1 \\pmod{{{c - 1}}}$, so ${c - 1}$ divides ${c}^{{{var}}} - 1$. Alternatively, "
             f"${c}^{{{var}}} - 1 = ({c} - 1)({c}^{{{var}-1}} + \\cdots + {c} + 1)$.\n\\end{{proof}}")
    return _Proof(statement, proof, f"theorem dvd_pow_sub_one_{c} ({var} : ℕ) : {c - 1} ∣ {c}^{var} - 1 :=")


def _proof_amgm(rng: random.Random) -> _Proof:
    s = 2 * rng.randint(2, 60)
    x, y = rng.sample("xyuvab", 2)
    statement = (f"Let ${x}$ and ${y}$ be positive real numbers with ${x} + {y} = {s}$. Prove that "
                 f"${x}{y} \\le {s * s // 4}$, and determine when equality holds.")
    proof = (f"\\begin{{proof}}\nWe have $0 \\le ({x} - {y})^2 = ({x} + {y})^2 - 4{x}{y} = {s * s} - 4{x}{y}$, hence "
             f"${x}{y} \\le {s * s // 4}$. Equality holds exactly when ${x} = {y} = {s // 2}$.\n\\end{{proof}}")
    return _Proof(statement, proof, f"theorem amgm_{s} ({x} {y} : ℝ) (h : {x} + {y} = {s}) : {x}*{y} ≤ {s * s // 4} :=")


def _proof_limit(rng: random.Random) -> _Proof:
    a, b, c, d = rng.randint(1, 20), rng.randint(1, 50), rng.randint(2, 20), rng.randint(1, 50)
    while b * c == a * d:
        d += 1
    g = math.gcd(a, c)
    statement = (f"Prove that the sequence $a_n = \\frac{{{a}n + {b}}}{{{c}n + {d}}}$ converges to "
                 f"$\\frac{{{a // g}}}{{{c // g}}}$.")
    gap = abs(b * c - a * d)
    proof = (f"\\begin{{proof}}\nFor $n \\ge 1$, $\\left|a_n - \\frac{{{a}}}{{{c}}}\\right| = "
             f"\\frac{{{gap}}}{{{c}({c}n + {d})}} < \\frac{{{gap}}}{{{c * c}n}}$. Given $\\varepsilon > 0$ choose "
             f"$N > \\frac{{{gap}}}{{{c * c}\\varepsilon}}$; then for $n \\ge N$ the distance is below "
             f"$\\varepsilon$.\n\\end{{proof}}")
    return _Proof(statement, proof, f"theorem tendsto_{a}_{b}_{c}_{d} : Tendsto (λ n : ℕ, ({a}*n+{b})/({c}*n+{d})) "
                                    f"atTop (𝓝 ({a}/{c})) :=")


def _proof_even(rng: random.Random) -> _Proof:
    k = 2 * rng.randint(0, 40) + 1
    var = rng.choice("nmt")
    statement = rng.choice([f"Prove that ${var}^2 + {k}{var}$ is even for every integer ${var}$.",
                            f"Show that for all integers ${var}$ the number ${var}({var} + {k})$ is divisible by 2."])
    proof = (f"\\begin{{proof}}\nWrite ${var}^2 + {k}{var} = {var}({var} + {k})$. Since ${k}$ is odd, ${var}$ and "
             f"${var} + {k}$ have different parities, so one factor is even and so is the product.\n\\end{{proof}}")
    return _Proof(statement, proof, f"theorem even_mul_add_{k} ({var} : ℤ) : Even ({var}*({var}+{k})) :=")


def _proof_gcd(rng: random.Random) -> _Proof:
    while True:
        a, b, c, d = (rng.randint(2, 25) for _ in range(4))
        if a * d - b * c in (1, -1):
            break
    var = rng.choice("nkx")
    statement = f"Prove that $\\gcd({a}{var} + {b}, {c}{var} + {d}) = 1$ for every integer ${var}$."
    proof = (f"\\begin{{proof}}\nLet $g$ divide both numbers. Then $g$ divides ${c}({a}{var} + {b}) - {a}({c}{var} + "
             f"{d}) = {c * b - a * d}$, so $g = \\pm 1$.\n\\end{{proof}}")
    return _Proof(statement, proof, f"theorem coprime_{a}_{b}_{c}_{d} ({var} : ℤ) : Int.gcd ({a}*{var}+{b}) "
                                    f"({c}*{var}+{d}) = 1 :=")


PROOF_FAMILIES = (_proof_sum, _proof_divisible, _proof_amgm, _proof_limit, _proof_even, _proof_gcd)


def _proof(rng: random.Random) -> _Proof:
    p = rng.choice(PROOF_FAMILIES)(rng)
    setting = rng.choice(_SETTINGS).format(topic=rng.choice(_TOPICS), w=rng.randint(1, 14))
    p.statement = f"{setting} {p.statement}".strip()
    return p


@dataclass
class _Answer:
    question: str
    solution: str
    answer: str
    subfield: str


def _divisor_count(rng: random.Random) -> _Answer:
    primes = rng.sample([2, 3, 5, 7, 11, 13], rng.randint(2, 3))
    exps = [rng.randint(1, 4) for _ in primes]
    n = math.prod(p ** e for p, e in zip(primes, exps, strict=True))
    count = math.prod(e + 1 for e in exps)
    who = rng.choice(NAMES)
    question = rng.choice([f"How many positive divisors does ${n}$ have?",
                           f"{who} writes every positive divisor of ${n}$ on a separate card. How many cards does "
                           f"{who} need?"])
    factor = " \\cdot ".join(f"{p}^{{{e}}}" for p, e in zip(primes, exps, strict=True))
    product = " \\cdot ".join(str(e + 1) for e in exps)
    solution = (f"Factor ${n} = {factor}$. A divisor chooses each exponent independently, so the count is "
                f"${product} = {count}$. The answer is $\\boxed{{{count}}}$.")
    return _Answer(question, solution, str(count), "Number Theory")


def _non_adjacent_choice(rng: random.Random) -> _Answer:
    n, k = rng.randint(8, 20), rng.randint(2, 5)
    items, place = rng.choice(ITEMS), rng.choice(PLACES)
    answer = math.comb(n - k + 1, k)
    question = (f"There are ${n}$ {items} in a row at the {place}. In how many ways can one choose ${k}$ of them so "
                f"that no two chosen {items} are next to each other?")
    solution = (f"Removing one gap after each of the first ${k - 1}$ chosen {items} gives a bijection with "
                f"choosing ${k}$ of ${n - k + 1}$ positions freely, so the answer is "
                f"$\\binom{{{n - k + 1}}}{{{k}}} = \\boxed{{{answer}}}$.")
    return _Answer(question, solution, str(answer), "Combinatorics")


def _suffix(n: int) -> str:
    """English ordinal suffix: 1st, 2nd, 3rd, 4th, 11th, 22nd."""
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _arithmetic_term(rng: random.Random) -> _Answer:
    first, diff = rng.randint(-30, 30), rng.choice([d for d in range(-9, 10) if d])
    i, j, t = sorted(rng.sample(range(2, 40), 2)) + [rng.randint(41, 120)]
    term = lambda m: first + (m - 1) * diff  # noqa: E731
    question = (f"The ${i}${_suffix(i)} term of an arithmetic sequence is ${term(i)}$ and its ${j}${_suffix(j)} "
                f"term is ${term(j)}$. What is its ${t}${_suffix(t)} term?")
    solution = (f"The common difference is $\\frac{{{term(j)} - ({term(i)})}}{{{j - i}}} = {diff}$, so the "
                f"${t}${_suffix(t)} "
                f"term is ${term(i)} + {t - i} \\cdot ({diff}) = \\boxed{{{term(t)}}}$.")
    return _Answer(question, solution, str(term(t)), "Algebra")


def _power_remainder(rng: random.Random) -> _Answer:
    base, exp, mod = rng.randint(2, 99), rng.randint(50, 2024), rng.choice([7, 9, 11, 13, 17, 19, 23, 100, 1000])
    answer = pow(base, exp, mod)
    question = f"Find the remainder when ${base}^{{{exp}}}$ is divided by ${mod}$."
    solution = (f"Reduce the exponent with the multiplicative order of ${base}$ modulo ${mod}$ (or use repeated "
                f"squaring): ${base}^{{{exp}}} \\equiv {answer} \\pmod{{{mod}}}$. The remainder is "
                f"$\\boxed{{{answer}}}$.")
    return _Answer(question, solution, str(answer), "Number Theory")


def _heron(rng: random.Random) -> _Answer:
    (a, b, c), area = rng.choice([((13, 14, 15), 84), ((5, 12, 13), 30), ((9, 10, 17), 36), ((7, 15, 20), 42),
                                  ((10, 13, 13), 60), ((11, 13, 20), 66), ((8, 15, 17), 60)])
    k = rng.randint(1, 12)
    a, b, c, area = a * k, b * k, c * k, area * k * k
    name = "".join(rng.sample("ABCDEFGHKLMPQRSTXYZ", 3))
    question = f"Triangle ${name}$ has side lengths ${a}$, ${b}$ and ${c}$. Find its area."
    s = (a + b + c) // 2
    solution = (f"The semi-perimeter is $s = {s}$. By Heron's formula the area is $\\sqrt{{{s} \\cdot {s - a} \\cdot "
                f"{s - b} \\cdot {s - c}}} = \\boxed{{{area}}}$.")
    return _Answer(question, solution, str(area), "Geometry")


ANSWER_FAMILIES = (_divisor_count, _non_adjacent_choice, _arithmetic_term, _power_remainder, _heron)
_BENCHMARK_SOLUTIONS = {
    "60": ("From $\\frac{9}{s} + t = 4$ and $\\frac{9}{s+2} + t = 2.4$ we get $s = 2.5$ and $t = 0.4$ hours. At "
           "$3$ km/h the walk takes $3$ hours, plus $24$ minutes: $\\boxed{204}$.", "204", "Algebra"),
    "64": ("$p = 17$ is the least prime with $p^2 \\mid n^4 + 1$ for some $n$. Lifting the solution $n \\equiv 2 "
           "\\pmod{17}$ gives the least $m$ with $17^2 \\mid m^4 + 1$: $\\boxed{110}$.", "110", "Number Theory"),
    "test/prealgebra/1622.json": ("Each triangle side is $7$ inches; the hexagon's perimeter is six such sides, "
                                  "$\\boxed{42}$ inches.", "42", "Geometry"),
    "test/number_theory/737.json": ("The proper divisors of $284$ sum to $220$, and those of $220$ sum to "
                                    "$\\boxed{284}$.", "284", "Number Theory"),
}


def _math_proofs(corpus: _Corpus) -> None:
    domain = "math_proof"

    def fresh_proof(rng: random.Random) -> _Proof:
        return corpus.fresh(domain, lambda: _proof(rng), lambda p: [p.statement])

    # ProofNet: nl_statement / nl_proof (+ Lean formal_statement)
    rng = corpus.rng("proofnet")
    f = corpus.file("math_proof/proofnet.jsonl", "proofnet", domain)
    used: set[str] = set()

    def proofnet(p: _Proof, statement: str | None = None, proof: str | None = None) -> dict[str, Any]:
        while (pid := f"{rng.choice(_BOOKS)}|exercise_{rng.randint(1, 12)}_{rng.randint(1, 30)}"
                      f"{rng.choice(['', 'a', 'b'])}") in used:
            pass
        used.add(pid)
        return {"id": pid, "formal_statement": p.formal, "src_header": "import .common\n\nopen real\n",
                "nl_statement": statement or p.statement, "nl_proof": p.proof if proof is None else proof}

    proofs = [fresh_proof(rng) for _ in range(36)]
    originals = [_Entry(proofnet(p)) for p in proofs]
    copies = [("exact", originals[0], _Entry(proofnet(proofs[0], whitespace_variant(proofs[0].statement)))),
              ("exact", originals[1], _Entry(proofnet(proofs[1]))),
              ("near", originals[2], _Entry(proofnet(proofs[2], near_duplicate(proofs[2].statement, rng)))),
              ("near", originals[3], _Entry(proofnet(proofs[3], near_duplicate(proofs[3].statement, rng))))]
    empty = proofnet(fresh_proof(rng), proof="")
    short = proofnet(fresh_proof(rng), proof="Trivial.")
    extra = [corpus.broken_entry(f, empty, "empty_field", "ingest", keys=[empty["id"]]),
             corpus.broken_entry(f, short, "proof_too_short", "filter", "proof", [short["id"]], 1)]
    for entry in originals + [c[2] for c in copies]:
        entry.keys = [entry.record["id"]]
    corpus.fill(f, rng, originals, copies, extra)

    # OlympiadBench: question / solution list / final_answer; one sample per solution, keyed `<id>/<k>`
    rng = corpus.rng("olympiadbench")
    f = corpus.file("math_proof/olympiadbench.jsonl", "olympiadbench", domain)
    ids = iter(rng.sample(range(1000, 9999), 80))

    def olympiad(a: _Answer, question: str | None = None, solutions: list[str] | None = None) -> _Entry:
        rid = next(ids)
        return _Entry({"id": rid, "subfield": a.subfield, "context": None, "question": question or a.question,
                       "solution": [a.solution] if solutions is None else solutions, "final_answer": [a.answer],
                       "is_multiple_answer": False, "unit": None, "answer_type": "Numerical", "error": None},
                      [f"{rid}/0"])

    answers = [corpus.fresh(domain, lambda: rng.choice(ANSWER_FAMILIES)(rng), lambda a: [a.question])
               for _ in range(30)]
    originals = [olympiad(a) for a in answers]
    copies = [("exact", originals[0], olympiad(answers[0])),
              ("exact", originals[1], olympiad(answers[1], whitespace_variant(answers[1].question))),
              ("near", originals[2], olympiad(answers[2], near_duplicate(answers[2].question, rng))),
              ("near", originals[3], olympiad(answers[3], near_duplicate(answers[3].question, rng)))]
    extra = []
    for bench in BENCHMARK_PROBLEMS:
        if bench["id"] in _BENCHMARK_SOLUTIONS:
            solution, final, subfield = _BENCHMARK_SOLUTIONS[bench["id"]]
            entry = olympiad(_Answer(bench["problem"], solution, final, subfield))
            corpus.contaminated.append((f, entry, bench["benchmark"]))
            extra.append(entry)
    empty = olympiad(rng.choice(ANSWER_FAMILIES)(rng), solutions=["", "  "])
    extra.append(corpus.broken_entry(f, empty.record, "empty_field", "ingest", keys=empty.keys))
    corpus.fill(f, rng, originals, copies, extra)

    # Proofs as OpenAI messages (a model-written proof with its reasoning)
    rng = corpus.rng("proof_messages")
    f = corpus.file("math_proof/proof_messages.jsonl", "openai_messages", domain)

    def message(p: _Proof) -> _Entry:
        uid = _uuid(rng)
        thought = f"Identify the structure of the claim, then write a complete argument. {p.formal}"
        return _Entry({"uuid": uid, "category": "math", "reasoning": "on", "messages": [
            {"role": "user", "content": f"{p.statement}\nGive a complete and rigorous proof."},
            {"role": "assistant", "content": p.proof, "reasoning_content": thought}]}, [uid])

    corpus.fill(f, rng, [message(fresh_proof(rng)) for _ in range(16)], [])


# ---------------------------------------------------------------- SWE issues, code and patches

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
class _Bug:
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
    first, second = rng.sample(_OBJECTS, 2)
    return (body, fixed, f"{func}({first!r}); {func}({second!r})", f"[{first!r}, {second!r}]", f"[{second!r}]",
            "keeps state between calls")


def _helper(rng: random.Random) -> list[str]:
    name = f"_{rng.choice(_VERBS)}_{rng.choice(_OBJECTS)}_{rng.randint(1, 99)}"
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


def _bug(rng: random.Random) -> _Bug:
    pkg = rng.choice(_PKG_HEADS) + rng.choice(_PKG_TAILS)
    org, number = rng.choice(_ORGS), rng.randint(100, 9999)
    sub, mod, obj = rng.choice(_SUBS), rng.choice(_MODULES), rng.choice(_OBJECTS)
    func = f"{rng.choice(_VERBS)}_{obj}"
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
        f"{rng.choice(['silently corrupts', 'breaks', 'changes'])} the {rng.choice(_FILE_STEMS)} we produce.\n\n"
        f"### Steps to reproduce\n\n```python\n{repro}```\n\n### Actual behaviour\n\n```\n{actual}\n```\n\n"
        f"### Expected behaviour\n\n```\n{expected}\n```\n\n### Environment\n\n- {pkg} {version}\n"
        f"- Python 3.{rng.randint(8, 12)}.{rng.randint(0, 15)}\n- {rng.choice(_OSES)}\n")
    return _Bug(f"{org}/{pkg}", f"{org}__{pkg}-{number}", path, func, issue, before, after, line, actual, expected,
                _structure(rng, pkg, path), repro)


def _numbered(lines: list[str], start: int, end: int) -> str:
    return "".join(f"{i + 1}:{lines[i]}" for i in range(max(0, start - 1), min(len(lines), end)))


def _malformed(patch: str) -> str:
    """A patch whose hunk header promises more lines than the hunk has: unified-diff parsers reject it."""
    return re.sub(r"@@ -(\d+),(\d+) \+(\d+),(\d+) @@", lambda m: f"@@ -{m[1]},{int(m[2]) + 4} +{m[3]},"
                  f"{int(m[4]) + 4} @@", patch, count=1)


# ---------------------------------------------------------------- SWE agentic trajectories

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


def _nebius(bug: _Bug, rng: random.Random, run: int, patch: str | None = None, issue: str | None = None,
            resolved: bool = True) -> dict[str, Any]:
    """nebius/SWE-agent-trajectories: system_prompt, user observations, `ai` turns of discussion + command."""
    root = f"/{bug.repo.split('/')[1]}"
    prompt = lambda f: f"\n(Open file: {f})\n(Current directory: {root})\nbash-$"  # noqa: E731
    window = _numbered(bug.before, max(1, bug.line - 5), bug.line + 8)
    new_line = bug.after[bug.line - 1].rstrip("\n")
    ai = [
        "Let's first reproduce the issue with the snippet from the report.\n```\ncreate reproduce.py\n```",
        f"Now paste the reproduction code.\n```\nedit 1:1\n{bug.repro}end_of_edit\n```",
        "Run it to see the current behaviour.\n```\npython reproduce.py\n```",
        f"The bug reproduces. Let's find `{bug.path.rsplit('/', 1)[1]}`.\n```\nfind_file "
        f"\"{bug.path.rsplit('/', 1)[1]}\"\n```",
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
        f"Found 1 matches for \"{bug.path.rsplit('/', 1)[1]}\" in {root}:\n{root}/{bug.path}" + prompt("n/a"),
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
            "eval_logs": f"Will execute following command for apply_patch:\ncd /{bug.repo.split('/')[1]} && git "
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


def _openhands(bug: _Bug, rng: random.Random, run: int, issue: str | None = None) -> dict[str, Any]:
    """SWE-Gym/OpenHands-Sampled-Trajectories: OpenAI messages with tool_calls, tools, resolved, test_result."""
    workdir = f"/workspace/{bug.repo.split('/')[1]}"
    changed = bug.before[bug.line - 1]
    def_line = next(i for i, line in enumerate(bug.before, 1) if line.startswith(f"def {bug.func}("))
    calls = [
        ("I'll start by locating the function from the PR description.", "execute_bash",
         {"command": f"grep -rn 'def {bug.func}' {workdir}"}, f"{workdir}/{bug.path}:{def_line}:def {bug.func}("),
        ("Let me view the implementation.", "str_replace_editor",
         {"command": "view", "path": f"{workdir}/{bug.path}", "view_range": [max(1, bug.line - 4), bug.line + 4]},
         _numbered(bug.before, max(1, bug.line - 4), bug.line + 4)),
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
        call_id = f"toolu_{run:02d}{k}{_hex_id(rng, 16)}"
        messages.append({"role": "assistant", "content": thought, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": tool, "arguments": json.dumps(args)}}]})
        messages.append({"role": "tool", "tool_call_id": call_id, "name": tool, "content": f"OBSERVATION:\n{result}"})
    messages.append({"role": "assistant", "content": f"`{bug.func}` is fixed and the reproduction passes.",
                     "tool_calls": [{"id": f"toolu_{run:02d}f{_hex_id(rng, 16)}", "type": "function",
                                     "function": {"name": "finish", "arguments": "{}"}}]})
    return {"instance_id": bug.instance_id, "run_id": f"gpt-4o-2024-08-06_maxiter_50_N_v2.1-no-hint-run_{run}",
            "resolved": True, "messages": messages, "tools": OPENHANDS_TOOLS,
            "test_result": {"git_patch": bug.patch()}}


def _swe_agentic(corpus: _Corpus) -> None:
    domain = "swe_agentic"
    swe_user = {"nebius": lambda b: [f"ISSUE:\n{b.issue}\n\n{SWE_AGENT_INSTRUCTIONS}"],
                "openhands": lambda b: [f"<pr_description>\n{b.issue}</pr_description> the repository"]}

    rng = corpus.rng("nebius")
    f = corpus.file("swe_agentic/nebius_trajectories.json", "nebius_swe_agent", domain, container="json")
    bugs = [corpus.fresh(domain, lambda: _bug(rng), swe_user["nebius"]) for _ in range(24)]
    originals = [_Entry(_nebius(b, rng, rng.randint(0, 20), resolved=rng.random() < 0.8)) for b in bugs]
    copies = [("exact", originals[0], _Entry(_nebius(bugs[0], rng, 21))),
              ("exact", originals[1], _Entry(_nebius(bugs[1], rng, 22))),
              ("near", originals[2], _Entry(_nebius(bugs[2], rng, 23, issue=near_duplicate(bugs[2].issue, rng)))),
              ("near", originals[3], _Entry(_nebius(bugs[3], rng, 24, issue=near_duplicate(bugs[3].issue, rng))))]
    bad = corpus.fresh(domain, lambda: _bug(rng), swe_user["nebius"])
    rec = _nebius(bad, rng, 1, patch=_malformed(bad.patch()))
    extra = [corpus.broken_entry(f, rec, "malformed_patch", "filter", "swe", [rec["instance_id"]], 1)]
    for entry in originals + [c[2] for c in copies]:
        entry.keys = [entry.record["instance_id"]]
    corpus.fill(f, rng, originals, copies, extra)

    rng = corpus.rng("swe_gym_openhands")
    f = corpus.file("swe_agentic/swe_gym_openhands.json", "swe_gym_openhands", domain, container="json")
    bugs = [corpus.fresh(domain, lambda: _bug(rng), swe_user["openhands"]) for _ in range(22)]
    originals = [_Entry(_openhands(b, rng, 1)) for b in bugs]
    copies = [("exact", originals[0], _Entry(_openhands(bugs[0], rng, 2))),
              ("near", originals[1], _Entry(_openhands(bugs[1], rng, 2, near_duplicate(bugs[1].issue, rng))))]
    for entry in originals + [c[2] for c in copies]:
        entry.keys = [f"{entry.record['instance_id']}/{entry.record['run_id']}"]
    corpus.fill(f, rng, originals, copies)


# ---------------------------------------------------------------- SWE agentless localization

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


def _agentless(bug: _Bug, rng: random.Random, instance_id: str | None = None, issue: str | None = None,
               empty: bool = False) -> dict[str, Any]:
    """Agentless localization output: file / related-element / edit-location prompt-response pairs."""
    issue = issue or bug.issue
    skeleton = "".join(line for line in bug.before if line.startswith(("def ", "import ", '"""'))).replace(
        ":\n", ":\n    ...\n")
    code = "".join(f"{i + 1}|{line}" for i, line in enumerate(bug.before))
    others = [p.strip() for p in bug.structure.splitlines() if p.strip().endswith(".py")]
    files = [bug.path, *rng.sample([o for o in others if o != bug.path.rsplit("/", 1)[1]], 2)]
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


def _agentless_keys(record: dict[str, Any]) -> list[str]:
    iid = record["instance_id"]
    return [f"{iid}/file_level/0", f"{iid}/related_elements/0", f"{iid}/edit_location/0"]


def _agentless_prompts(record: dict[str, Any]) -> list[str]:
    return [record[k]["prompt"] for k in ("file_traj", "related_loc_traj", "edit_loc_traj")]


def _swe_agentless(corpus: _Corpus) -> None:
    domain = "swe_agentless"
    rng = corpus.rng("agentless")
    f = corpus.file("swe_agentless/agentless_loc.jsonl", "agentless_localization", domain)
    made = [corpus.fresh(domain, lambda: (bug := _bug(rng), _agentless(bug, rng)), lambda m: _agentless_prompts(m[1]))
            for _ in range(28)]
    originals = [_Entry(record, _agentless_keys(record), 3) for _, record in made]

    def rerun(bug: _Bug, near: bool) -> _Entry:
        """The same instance run again under a new id; its issue text reworded by a few words when `near`."""
        record = _agentless(bug, rng, f"{bug.instance_id}-retry", near_duplicate(bug.issue, rng) if near else None)
        return _Entry(record, _agentless_keys(record), 3)

    copies = [("exact", originals[0], rerun(made[0][0], near=False)),
              ("near", originals[1], rerun(made[1][0], near=True))]
    skipped = _agentless(_bug(rng), rng, empty=True)
    extra = [corpus.broken_entry(f, skipped, "no_response", "ingest", keys=_agentless_keys(skipped)[:1])]
    corpus.fill(f, rng, originals, copies, extra)


# ---------------------------------------------------------------- entry point


def write_demo_corpus(out_dir: Path, seed: int = 0) -> dict[str, Any]:
    """Write the demo corpus under `out_dir` and return its manifest (also written as `out_dir/planted.json`).

    The same seed gives byte-identical files. Existing files of the corpus are overwritten; nothing else is touched.
    """
    out_dir = Path(out_dir)
    corpus = _Corpus(seed)
    for build in (_code_reasoning, _tool_calling, _math_proofs, _swe_agentic, _swe_agentless):
        build(corpus)
    for f in corpus.files:
        target = out_dir / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.render())
    bench = out_dir / BENCHMARK_FILE
    bench.parent.mkdir(parents=True, exist_ok=True)
    bench.write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in BENCHMARK_PROBLEMS), encoding="utf-8")
    manifest = corpus.manifest()
    (out_dir / "planted.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def sample_id_for(out_dir: Path, key: str) -> str:
    """The sample id ingest gives the sample `key` names when the corpus file is read from `out_dir`.

    Ingest ids a sample by the source label it read the file under (the path as given, or a folder's file path):
    pass the same `out_dir` spelling as the ingest sources used.
    """
    path, _, record_key = key.partition("::")
    return sample_id(str(Path(out_dir) / path), record_key)
