"""Math problems: statements with a written proof (and a Lean statement) in six families, and short-answer
competition questions with a worked solution in five."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from curate.demo_data.text import ITEMS, NAMES, PLACES

_SETTINGS = ("Throughout, all variables are integers unless stated otherwise.", "This is an exercise from a first "
             "course in {topic}.", "The following appeared on a {topic} problem sheet in week {w}.",
             "Recall that a proof by induction needs a base case and an inductive step.", "")
_TOPICS = "number theory, real analysis, algebra, discrete mathematics, elementary inequalities, calculus".split(", ")


@dataclass
class Proof:
    statement: str
    proof: str
    formal: str


def _proof_sum(rng: random.Random) -> Proof:
    a, b, var = rng.randint(2, 19), rng.randint(1, 30), rng.choice("nmN")
    statement = (f"Prove that for every positive integer ${var}$, $\\sum_{{k=1}}^{{{var}}} ({a}k + {b}) = "
                 f"\\frac{{{var}({a}{var} + {a + 2 * b})}}{{2}}$.")
    proof = (f"\\begin{{proof}}\nWe argue by induction on ${var}$. For ${var} = 1$ the left side is ${a + b}$ and the "
             f"right side is $\\frac{{{a} + {a + 2 * b}}}{{2}} = {a + b}$. Assume the identity for ${var}$. Adding "
             f"the next term ${a}({var}+1) + {b}$ to both sides, the right side becomes "
             f"$\\frac{{{var}({a}{var} + {a + 2 * b}) + 2({a}{var} + {a + b})}}{{2}} = "
             f"\\frac{{({var}+1)({a}({var}+1) + {a + 2 * b})}}{{2}}$, which is the identity for ${var}+1$.\n"
             f"\\end{{proof}}")
    return Proof(statement, proof, f"theorem sum_linear_{a}_{b} ({var} : ℕ) : ∑ k in range ({var}+1), ({a}*k+{b}) "
                                    f"= {var}*({a}*{var}+{a + 2 * b})/2 :=")


def _proof_divisible(rng: random.Random) -> Proof:
    c, var = rng.randint(3, 40), rng.choice("nkm")
    statement = f"Prove that ${c}^{{{var}}} - 1$ is divisible by ${c - 1}$ for every positive integer ${var}$."
    proof = (f"\\begin{{proof}}\nSince ${c} \\equiv 1 \\pmod{{{c - 1}}}$, we get ${c}^{{{var}}} \\equiv 1^{{{var}}} "
             f"= 1 \\pmod{{{c - 1}}}$, so ${c - 1}$ divides ${c}^{{{var}}} - 1$. Alternatively, "
             f"${c}^{{{var}}} - 1 = ({c} - 1)({c}^{{{var}-1}} + \\cdots + {c} + 1)$.\n\\end{{proof}}")
    return Proof(statement, proof, f"theorem dvd_pow_sub_one_{c} ({var} : ℕ) : {c - 1} ∣ {c}^{var} - 1 :=")


def _proof_amgm(rng: random.Random) -> Proof:
    s = 2 * rng.randint(2, 60)
    x, y = rng.sample("xyuvab", 2)
    statement = (f"Let ${x}$ and ${y}$ be positive real numbers with ${x} + {y} = {s}$. Prove that "
                 f"${x}{y} \\le {s * s // 4}$, and determine when equality holds.")
    proof = (f"\\begin{{proof}}\nWe have $0 \\le ({x} - {y})^2 = ({x} + {y})^2 - 4{x}{y} = {s * s} - 4{x}{y}$, hence "
             f"${x}{y} \\le {s * s // 4}$. Equality holds exactly when ${x} = {y} = {s // 2}$.\n\\end{{proof}}")
    return Proof(statement, proof, f"theorem amgm_{s} ({x} {y} : ℝ) (h : {x} + {y} = {s}) : {x}*{y} ≤ {s * s // 4} :=")


def _proof_limit(rng: random.Random) -> Proof:
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
    return Proof(statement, proof, f"theorem tendsto_{a}_{b}_{c}_{d} : Tendsto (λ n : ℕ, ({a}*n+{b})/({c}*n+{d})) "
                                    f"atTop (𝓝 ({a}/{c})) :=")


def _proof_even(rng: random.Random) -> Proof:
    k = 2 * rng.randint(0, 40) + 1
    var = rng.choice("nmt")
    statement = rng.choice([f"Prove that ${var}^2 + {k}{var}$ is even for every integer ${var}$.",
                            f"Show that for all integers ${var}$ the number ${var}({var} + {k})$ is divisible by 2."])
    proof = (f"\\begin{{proof}}\nWrite ${var}^2 + {k}{var} = {var}({var} + {k})$. Since ${k}$ is odd, ${var}$ and "
             f"${var} + {k}$ have different parities, so one factor is even and so is the product.\n\\end{{proof}}")
    return Proof(statement, proof, f"theorem even_mul_add_{k} ({var} : ℤ) : Even ({var}*({var}+{k})) :=")


def _proof_gcd(rng: random.Random) -> Proof:
    while True:
        a, b, c, d = (rng.randint(2, 25) for _ in range(4))
        if a * d - b * c in (1, -1):
            break
    var = rng.choice("nkx")
    statement = f"Prove that $\\gcd({a}{var} + {b}, {c}{var} + {d}) = 1$ for every integer ${var}$."
    proof = (f"\\begin{{proof}}\nLet $g$ divide both numbers. Then $g$ divides ${c}({a}{var} + {b}) - {a}({c}{var} + "
             f"{d}) = {c * b - a * d}$, so $g = \\pm 1$.\n\\end{{proof}}")
    return Proof(statement, proof, f"theorem coprime_{a}_{b}_{c}_{d} ({var} : ℤ) : Int.gcd ({a}*{var}+{b}) "
                                    f"({c}*{var}+{d}) = 1 :=")


PROOF_FAMILIES = (_proof_sum, _proof_divisible, _proof_amgm, _proof_limit, _proof_even, _proof_gcd)


def make_proof(rng: random.Random) -> Proof:
    p = rng.choice(PROOF_FAMILIES)(rng)
    setting = rng.choice(_SETTINGS).format(topic=rng.choice(_TOPICS), w=rng.randint(1, 14))
    p.statement = f"{setting} {p.statement}".strip()
    return p


@dataclass
class Answer:
    question: str
    solution: str
    answer: str
    subfield: str


def _divisor_count(rng: random.Random) -> Answer:
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
    return Answer(question, solution, str(count), "Number Theory")


def _non_adjacent_choice(rng: random.Random) -> Answer:
    n, k = rng.randint(8, 20), rng.randint(2, 5)
    items, place = rng.choice(ITEMS), rng.choice(PLACES)
    answer = math.comb(n - k + 1, k)
    question = (f"There are ${n}$ {items} in a row at the {place}. In how many ways can one choose ${k}$ of them so "
                f"that no two chosen {items} are next to each other?")
    solution = (f"Removing one gap after each of the first ${k - 1}$ chosen {items} gives a bijection with "
                f"choosing ${k}$ of ${n - k + 1}$ positions freely, so the answer is "
                f"$\\binom{{{n - k + 1}}}{{{k}}} = \\boxed{{{answer}}}$.")
    return Answer(question, solution, str(answer), "Combinatorics")


def _suffix(n: int) -> str:
    """English ordinal suffix: 1st, 2nd, 3rd, 4th, 11th, 22nd."""
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _arithmetic_term(rng: random.Random) -> Answer:
    first, diff = rng.randint(-30, 30), rng.choice([d for d in range(-9, 10) if d])
    i, j, t = sorted(rng.sample(range(2, 40), 2)) + [rng.randint(41, 120)]
    term = lambda m: first + (m - 1) * diff  # noqa: E731
    question = (f"The ${i}${_suffix(i)} term of an arithmetic sequence is ${term(i)}$ and its ${j}${_suffix(j)} "
                f"term is ${term(j)}$. What is its ${t}${_suffix(t)} term?")
    solution = (f"The common difference is $\\frac{{{term(j)} - ({term(i)})}}{{{j - i}}} = {diff}$, so the "
                f"${t}${_suffix(t)} "
                f"term is ${term(i)} + {t - i} \\cdot ({diff}) = \\boxed{{{term(t)}}}$.")
    return Answer(question, solution, str(term(t)), "Algebra")


def _power_remainder(rng: random.Random) -> Answer:
    base, exp, mod = rng.randint(2, 99), rng.randint(50, 2024), rng.choice([7, 9, 11, 13, 17, 19, 23, 100, 1000])
    answer = pow(base, exp, mod)
    question = f"Find the remainder when ${base}^{{{exp}}}$ is divided by ${mod}$."
    solution = (f"Reduce the exponent with the multiplicative order of ${base}$ modulo ${mod}$ (or use repeated "
                f"squaring): ${base}^{{{exp}}} \\equiv {answer} \\pmod{{{mod}}}$. The remainder is "
                f"$\\boxed{{{answer}}}$.")
    return Answer(question, solution, str(answer), "Number Theory")


def _heron(rng: random.Random) -> Answer:
    (a, b, c), area = rng.choice([((13, 14, 15), 84), ((5, 12, 13), 30), ((9, 10, 17), 36), ((7, 15, 20), 42),
                                  ((10, 13, 13), 60), ((11, 13, 20), 66), ((8, 15, 17), 60)])
    k = rng.randint(1, 12)
    a, b, c, area = a * k, b * k, c * k, area * k * k
    name = "".join(rng.sample("ABCDEFGHKLMPQRSTXYZ", 3))
    question = f"Triangle ${name}$ has side lengths ${a}$, ${b}$ and ${c}$. Find its area."
    s = (a + b + c) // 2
    solution = (f"The semi-perimeter is $s = {s}$. By Heron's formula the area is $\\sqrt{{{s} \\cdot {s - a} \\cdot "
                f"{s - b} \\cdot {s - c}}} = \\boxed{{{area}}}$.")
    return Answer(question, solution, str(area), "Geometry")


ANSWER_FAMILIES = (_divisor_count, _non_adjacent_choice, _arithmetic_term, _power_remainder, _heron)


def make_answer(rng: random.Random) -> Answer:
    return rng.choice(ANSWER_FAMILIES)(rng)
