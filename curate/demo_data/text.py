"""Text helpers shared by every kind: word shingles, planted near-duplicate and whitespace variants, random ids,
and the vocabulary the templates draw from."""

from __future__ import annotations

import random
import re
import unicodedata

NGRAM = 5
NEAR_DUP_MIN_JACCARD = 0.85  # planted near-duplicates sit well above the 0.7 dedup threshold


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


# ---------------------------------------------------------------- planted variants


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


# ---------------------------------------------------------------- ids and vocabulary

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
FILE_STEMS = ("sales orders readings shipments signups invoices trips measurements bookings returns visits "
              "payments deliveries tickets").split()
VERBS = "parse merge normalize split render compute resolve group flatten validate encode collect".split()
OBJECTS = "header rows path tokens dates prices labels ranges intervals records names matrix keys".split()


def random_hex(rng: random.Random, n: int = 32) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def random_uuid(rng: random.Random) -> str:
    h = random_hex(rng)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
