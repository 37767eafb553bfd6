"""Reading plate crops with EasyOCR: the fine-tuned plate recognizer (default) or stock english_g2.

EasyOCR loads the network and prepares each crop exactly as its own ``recognize`` does (resize to
64 px high, pad by repeating the last column); the workbench then decodes the network's output itself
so that each character keeps its confidence and the runner-up it beat (kept for look-alike search).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..settings import Settings, load_settings
from . import models
from .text import fold_us

ALLOWED = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
US_MAX_LENGTH = 7  # standard US issues have at most 7 characters; measured to help on plates-dev US (MODEL_CARD)
# The standard 7-character US issues: California's 7ABC123 and most other states' ABC1234 (D digit, L letter).
US_FORMATS = ("DLLLDDD", "LLLDDDD")
# A letter/digit swap that makes a reading fit a format is taken only when the network gave the swapped-in
# character at least this probability (measured on plates-dev US; see MODEL_CARD).
FORMAT_SWAP_MIN_PROBABILITY = 0.05
LETTERS = "ABCDEFGHIJKLMNPQRSTUVWXYZ"  # no O: US plates have none (it is read as 0)
DIGITS = "0123456789"


@dataclass(frozen=True)
class PlateText:
    """One crop's reading: text, each character's confidence, and the character that came second."""

    text: str
    char_confidence: tuple[float, ...] = ()
    alternatives: tuple[tuple[str, float], ...] = ()  # per character: (runner-up, its probability)
    extras: dict = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        return float(np.prod(self.char_confidence)) if self.char_confidence else 0.0


def prepare_crop(crop: np.ndarray) -> np.ndarray:
    """Grayscale, as the recognizer was trained (EasyOCR's networks read one channel)."""
    import cv2

    return cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop


class PlateReader:
    """Reads plate crops. ``stock=True`` uses EasyOCR's general english_g2 model (for comparison)."""

    def __init__(self, settings: Settings | None = None, *, stock: bool = False, region: str = "us",
                 network_dir: Path | None = None) -> None:
        settings = settings or load_settings()
        self.stock = stock
        self.region = region
        if stock:
            self.reader = models.load_reader(None, models.base_ocr_dir(settings))
        else:
            self.reader = models.load_reader(network_dir or models.recognizer_dir(settings))
        characters = list(self.reader.converter.character)  # index 0 is the CTC blank
        self._characters = characters
        upper = [c.upper() if isinstance(c, str) and len(c) == 1 else "" for c in characters]
        # Allowlist as EasyOCR applies it: characters outside A-Z0-9 can never win.
        self._allowed = np.array([i == 0 or upper[i] in ALLOWED for i in range(len(characters))])
        self._upper = upper
        self._letters = np.array([i for i in range(1, len(upper)) if upper[i] in LETTERS and upper[i] == characters[i]])
        self._digits = np.array([i for i in range(1, len(upper)) if upper[i] in DIGITS])

    def read(self, crops: list[np.ndarray], region: str | None = None) -> list[PlateText]:
        """Read each crop (BGR or grayscale, the plate box from the detector). ``region`` ("us", "eu")
        overrides the reader's for these crops: the US reading rules apply to US plates only."""
        import torch
        from easyocr.recognition import AlignCollate
        from easyocr.utils import get_image_list
        from PIL import Image

        if not crops:
            return []
        results: list[PlateText] = []
        for crop in crops:
            gray = prepare_crop(crop)
            height, width = gray.shape[:2]
            if height < 4 or width < 4:
                results.append(PlateText(""))
                continue
            image_list, max_width = get_image_list([[0, width, 0, height]], [], gray, model_height=64)
            collate = AlignCollate(imgH=64, imgW=int(max_width), keep_ratio_with_pad=True)
            tensor = collate([Image.fromarray(image, "L") for _, image in image_list])
            with torch.no_grad():
                logits = self.reader.recognizer(tensor, None)
            probs = torch.softmax(logits, dim=2)[0].numpy()
            results.append(self._decode(probs, region or self.region))
        return results

    def _decode(self, probs: np.ndarray, region: str) -> PlateText:
        probs = probs * self._allowed[None, :]
        probs = probs / np.clip(probs.sum(axis=1, keepdims=True), 1e-9, None)
        best = probs.argmax(axis=1)
        chars, confidences, alternatives, by_kind = [], [], [], []
        previous = 0
        for step, index in enumerate(best):
            if index != 0 and index != previous:
                char = self._upper[index]
                ranked = np.argsort(probs[step])[::-1]
                runner = next((i for i in ranked if i not in (0, index) and self._upper[i] != char), None)
                chars.append(char)
                confidences.append(float(probs[step, index]))
                alternatives.append((self._upper[runner] if runner is not None else "",
                                     float(probs[step, runner]) if runner is not None else 0.0))
                by_kind.append({kind: (self._upper[pool[k]], float(probs[step, pool[k]]))
                                for kind, pool in (("L", self._letters), ("D", self._digits)) if len(pool)
                                for k in [int(np.argmax(probs[step, pool]))]})
            previous = index
        if region == "us":
            chars, confidences, alternatives, by_kind = trim_to_length(chars, confidences, alternatives, US_MAX_LENGTH,
                                                                       by_kind)
            # US plates have no letter O; measured to help on plates-dev US
            chars = [fold_us(c) for c in chars]
            alternatives = [(fold_us(alt), p) for alt, p in alternatives]
            chars, confidences, alternatives = fit_us_format(chars, confidences, alternatives, by_kind)
        return PlateText("".join(chars), tuple(confidences), tuple(alternatives))


def trim_to_length(chars: list[str], confidences: list[float], alternatives: list, limit: int, *parallel: list):
    """Drop end characters, least confident first, until at most ``limit`` remain: a reading longer than any
    plate has picked up a frame edge, bolt or emblem beside the characters, and those sit at the ends.
    ``parallel`` lists (one entry per character) lose the same entries."""
    lists = [list(chars), list(confidences), list(alternatives), *(list(extra) for extra in parallel)]
    while len(lists[0]) > limit:
        end = 0 if lists[1][0] < lists[1][-1] else -1
        for values in lists:
            del values[end]
    return tuple(lists)


def _fits(char: str, kind: str) -> bool:
    return char == "0" or char in (DIGITS if kind == "D" else LETTERS)  # 0 may be a folded letter O


def fit_us_format(chars: list[str], confidences: list[float], alternatives: list, by_kind: list[dict],
                  formats: tuple[str, ...] = US_FORMATS, min_probability: float = FORMAT_SWAP_MIN_PROBABILITY):
    """A 7-character US reading one letter/digit swap away from a standard format takes that swap (8 for B,
    0 for D...) when the network gave the swapped-in character at least ``min_probability``; the character it
    replaces becomes that position's alternative. ``by_kind``: per character, the best letter and the best
    digit with their probabilities ({"L": (char, p), "D": (char, p)})."""
    chars, confidences, alternatives = list(chars), list(confidences), list(alternatives)
    if any(len(pattern) == len(chars) and all(map(_fits, chars, pattern)) for pattern in formats):
        return chars, confidences, alternatives
    best = None
    for pattern in formats:
        if len(pattern) != len(chars):
            continue
        wrong = [i for i, (char, kind) in enumerate(zip(chars, pattern, strict=True)) if not _fits(char, kind)]
        if len(wrong) == 1 and pattern[wrong[0]] in by_kind[wrong[0]]:
            candidate, probability = by_kind[wrong[0]][pattern[wrong[0]]]
            if probability >= min_probability and (best is None or probability > best[2]):
                best = (wrong[0], candidate, probability)
    if best is not None:
        position, candidate, probability = best
        alternatives[position] = (chars[position], confidences[position])
        chars[position], confidences[position] = candidate, probability
    return chars, confidences, alternatives
