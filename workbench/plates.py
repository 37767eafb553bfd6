"""Plate text: normalization, the look-alike skeleton, and the partial-plate pattern language.

The database has the same rules (sql/R__10_core.sql, sql/R__30_search.sql) and is the one that
decides; this module explains patterns to the analyst and is the oracle the tests compare against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidPattern

# Characters OCR and witnesses confuse, as classes; each maps to its first member.
LOOKALIKE_CLASSES: tuple[str, ...] = ("0ODQ", "1ILT7J", "2Z", "4A", "5S", "6G", "8B", "MNHW", "UV")
_FROM = "".join(group[1:] for group in LOOKALIKE_CLASSES)
_TO = "".join(group[0] * (len(group) - 1) for group in LOOKALIKE_CLASSES)
_SKELETON = str.maketrans(_FROM, _TO)
MISTAKE_COST = 100
LOOKALIKE_COST = 1


def normalize_plate(text: str) -> str:
    return re.sub(r"[\s\-.·]", "", text or "").upper()


def skeleton(plate: str) -> str:
    """Each character replaced by the representative of its look-alike class."""
    return plate.translate(_SKELETON)


@dataclass(frozen=True)
class Pattern:
    """A parsed pattern: tokens are a literal character, '?', '*' or '[' followed by a set's members."""

    text: str
    tokens: tuple[str, ...]

    @property
    def known(self) -> int:
        """Known positions: a literal, or a set whose members are look-alikes of each other ([8B], not [0-9]):
        breadth is judged by what a pattern selects, not by how it is written."""
        return sum(1 for token in self.tokens
                   if token not in ("?", "*") and len(set(skeleton(token.lstrip("[")))) == 1)

    def explain(self) -> str:
        parts = []
        for token in self.tokens:
            if token == "?":
                parts.append("one unknown character")
            elif token == "*":
                parts.append("any run of characters")
            elif token.startswith("["):
                parts.append("one of " + "/".join(token[1:]))
            else:
                parts.append(token)
        return ", then ".join(parts)


def parse_pattern(text: str) -> Pattern:
    """Parse ``7?B12*``, ``7[8B]X``; raises InvalidPattern saying what and where."""
    source = (text or "").upper()
    if len(source) > 40:
        raise InvalidPattern(f"pattern is {len(source)} characters long; at most 40", reason="invalid_pattern")
    tokens: list[str] = []
    position = 0
    while position < len(source):
        char = source[position]
        if char in " -":
            pass
        elif re.fullmatch(r"[A-Z0-9]", char):
            tokens.append(char)
        elif char == "?":
            tokens.append(char)
        elif char == "*":
            if not tokens or tokens[-1] != "*":
                tokens.append(char)
        elif char == "[":
            closing = source.find("]", position + 1)
            if closing < 0:
                raise InvalidPattern(f"the set opened at position {position + 1} has no closing ]", reason="invalid_pattern")
            members = source[position + 1:closing]
            if not re.fullmatch(r"[A-Z0-9]+", members):
                raise InvalidPattern(f"the set at position {position + 1} must list letters or digits only, like [8B]",
                                     reason="invalid_pattern")
            tokens.append("[" + members)
            position = closing
        else:
            raise InvalidPattern(f"character {char!r} at position {position + 1} is not allowed; "
                                 "use A-Z, 0-9, ?, * or [..]", reason="invalid_pattern")
        position += 1
    pattern = Pattern(text, tuple(tokens))
    if not tokens:
        raise InvalidPattern("the pattern is empty", reason="invalid_pattern")
    if pattern.known == 0:
        raise InvalidPattern("the pattern has no known character", reason="invalid_pattern")
    if sum(1 for token in tokens if token != "*") > 10:
        raise InvalidPattern("the pattern has more than 10 character positions; plates have at most 10",
                             reason="invalid_pattern")
    return pattern


def _step(token: str, char: str, lookalike: bool) -> int:
    members = token[1:] if token.startswith("[") else token
    if token == "?" or char in members:
        return 0
    if lookalike and skeleton(char) in skeleton(members):
        return LOOKALIKE_COST
    return MISTAKE_COST


def match_cost(pattern: Pattern, plate: str, lookalike: bool) -> int:
    """Weighted edit distance in hundredths (mistake 100, look-alike 1), as the database computes it."""
    tokens, width = pattern.tokens, len(plate) + 1
    previous = [j * MISTAKE_COST for j in range(width)]
    for token in tokens:
        current = [0] * width
        if token == "*":
            current[0] = previous[0]
            for j in range(1, width):
                current[j] = min(previous[j], current[j - 1])
        else:
            current[0] = previous[0] + MISTAKE_COST
            for j in range(1, width):
                current[j] = min(previous[j - 1] + _step(token, plate[j - 1], lookalike),
                                 previous[j] + MISTAKE_COST, current[j - 1] + MISTAKE_COST)
        previous = current
    return previous[-1]


def matches(pattern: Pattern, plate: str, lookalike: bool = False, max_mistakes: int = 0) -> int | None:
    """The cost when ``plate`` matches within ``max_mistakes``, else None."""
    cost = match_cost(pattern, plate, lookalike)
    return cost if cost < (max_mistakes + 1) * MISTAKE_COST else None


def assumed_characters(pattern: Pattern, plate: str) -> list[str]:
    """Where a same-length match relied on a look-alike or a mistake, e.g. ['pos 4: B read as 8']."""
    positions = [token for token in pattern.tokens if token != "*"]
    if "*" in pattern.tokens or len(positions) != len(plate):
        return []
    notes = []
    for index, (token, char) in enumerate(zip(positions, plate, strict=True), start=1):
        cost = _step(token, char, True)
        members = token[1:] if token.startswith("[") else token
        if cost == LOOKALIKE_COST:
            notes.append(f"pos {index}: {members} taken as look-alike {char}")
        elif cost == MISTAKE_COST:
            notes.append(f"pos {index}: {members} differs from {char}")
    return notes
