"""Plate text rules the recognizer, its training and its evaluation share: the US fold of O into 0, and the
edit distance "within one character" is measured with."""

from __future__ import annotations


def fold_us(text: str) -> str:
    """US plates have no letter O (it is the digit 0): fold it, in labels and in readings."""
    return text.replace("O", "0")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, each 1."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
