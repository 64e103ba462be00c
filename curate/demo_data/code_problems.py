"""Python competitive-programming problems: six families of story-dressed statements with a solution, the
reasoning that leads to it, and a one-line explanation."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from curate.demo_data.text import ADJECTIVES, COLORS, ITEMS, NAMES, PLACES


@dataclass
class Problem:
    statement: str
    code: str
    reasoning: str
    explanation: str
    difficulty: str


def _ints(rng: random.Random, n: int, lo: int, hi: int) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(n)]


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


def _pairs_divisible(rng: random.Random) -> Problem:
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
    return Problem(statement, code, reasoning, explanation, rng.choice(["EASY", "MEDIUM"]))


def _longest_window(rng: random.Random) -> Problem:
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
    return Problem(statement, code, reasoning, explanation, "MEDIUM")


def _grid_path(rng: random.Random) -> Problem:
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
    return Problem(statement, code, reasoning, explanation, rng.choice(["EASY", "MEDIUM"]))


def _non_adjacent(rng: random.Random) -> Problem:
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
    return Problem(statement, code, reasoning, explanation, "EASY")


def _gcd_removal(rng: random.Random) -> Problem:
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
    return Problem(statement, code, reasoning, explanation, rng.choice(["MEDIUM", "HARD"]))


def _intervals(rng: random.Random) -> Problem:
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
    return Problem(statement, code, reasoning, explanation, "EASY")


PROBLEM_FAMILIES = (_pairs_divisible, _longest_window, _grid_path, _non_adjacent, _gcd_removal, _intervals)


def make_problem(rng: random.Random) -> Problem:
    problem = rng.choice(PROBLEM_FAMILIES)(rng)
    problem.statement = _vary(problem.statement, rng)
    return problem

