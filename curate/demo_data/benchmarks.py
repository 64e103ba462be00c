"""Public benchmark problems planted into prompts, and the worked solutions the planted samples answer with."""

from __future__ import annotations

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


# (idea, function body) completing each planted HumanEval prompt
HUMANEVAL_SOLUTIONS = {
    "HumanEval/0": ("Sort first: the closest pair of numbers is then adjacent, so one pass over neighbours is "
                    "enough.", "    ordered = sorted(numbers)\n    return any(b - a < threshold "
                    "for a, b in zip(ordered, ordered[1:]))\n"),
    "HumanEval/4": ("Compute the mean once, then average the absolute deviations from it.",
                    "    mean = sum(numbers) / len(numbers)\n    return sum(abs(x - mean) for x in numbers) / "
                    "len(numbers)\n"),
}


# (solution, final answer, subfield) of each planted math problem
MATH_BENCHMARK_SOLUTIONS = {
    "60": ("From $\\frac{9}{s} + t = 4$ and $\\frac{9}{s+2} + t = 2.4$ we get $s = 2.5$ and $t = 0.4$ hours. At "
           "$3$ km/h the walk takes $3$ hours, plus $24$ minutes: $\\boxed{204}$.", "204", "Algebra"),
    "64": ("$p = 17$ is the least prime with $p^2 \\mid n^4 + 1$ for some $n$. Lifting the solution $n \\equiv 2 "
           "\\pmod{17}$ gives the least $m$ with $17^2 \\mid m^4 + 1$: $\\boxed{110}$.", "110", "Number Theory"),
    "test/prealgebra/1622.json": ("Each triangle side is $7$ inches; the hexagon's perimeter is six such sides, "
                                  "$\\boxed{42}$ inches.", "42", "Geometry"),
    "test/number_theory/737.json": ("The proper divisors of $284$ sum to $220$, and those of $220$ sum to "
                                    "$\\boxed{284}$.", "284", "Number Theory"),
}

