"""One plate from several looks: a per-character vote across the frames of a track."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from .ocr import PlateText


@dataclass(frozen=True)
class Vote:
    text: str
    char_confidence: tuple[float, ...]  # share of the vote each winning character got, times its own confidence
    alternatives: tuple[tuple[str, float], ...]  # per position: the best losing character and its share
    looks: int  # readings that took part
    agreeing: int  # readings that gave exactly the winning text


def vote(readings: list[PlateText], weights: list[float] | None = None) -> Vote:
    """Character-wise weighted vote among the readings of the most supported length.

    Each reading weighs its crop's weight (size and sharpness) times each character's confidence, so a
    sharp close-up outvotes two blurred distant looks.
    """
    weights = weights or [1.0] * len(readings)
    usable = [(r, w) for r, w in zip(readings, weights, strict=True) if r.text]
    if not usable:
        return Vote("", (), (), len(readings), 0)
    by_length: dict[int, float] = defaultdict(float)
    for reading, weight in usable:
        by_length[len(reading.text)] += weight * reading.confidence ** (1 / max(1, len(reading.text)))
    length = max(by_length, key=lambda n: (by_length[n], n))
    same = [(r, w) for r, w in usable if len(r.text) == length]
    text, confidences, alternatives = [], [], []
    for position in range(length):
        tally: Counter[str] = Counter()
        for reading, weight in same:
            char_conf = reading.char_confidence[position] if position < len(reading.char_confidence) else 0.5
            tally[reading.text[position]] += weight * char_conf
            if position < len(reading.alternatives):
                alt, alt_prob = reading.alternatives[position]
                if alt:
                    tally[alt] += weight * alt_prob
        total = sum(tally.values()) or 1.0
        ranked = tally.most_common()
        text.append(ranked[0][0])
        confidences.append(ranked[0][1] / total)
        alternatives.append((ranked[1][0], ranked[1][1] / total) if len(ranked) > 1 else ("", 0.0))
    winner = "".join(text)
    return Vote(winner, tuple(confidences), tuple(alternatives), len(readings),
                sum(1 for r, _ in usable if r.text == winner))
