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
LETTERS = "ABCDEFGHIJKLMNPQRSTUVWXYZ"  # no O: US plates have none (it is read as 0)
DIGITS = "0123456789"
RULES_FILE = Path(__file__).with_name("plate_formats.toml")


@dataclass(frozen=True)
class RegionRules:
    """One region's reading rules (plate_formats.toml): which apply is data, measured per region."""

    lengths: tuple[int, int] = (1, 10)
    fold_o_to_zero: bool = False
    max_length: int = 0  # 0: no trimming
    formats: tuple[str, ...] = ()
    format_swap_min_probability: float = 0.05

    def fits_length(self, text: str) -> bool:
        return self.lengths[0] <= len(text) <= self.lengths[1]


def load_rules(path: Path = RULES_FILE) -> dict[str, RegionRules]:
    import tomllib

    data = tomllib.loads(path.read_text())
    return {region: RegionRules(lengths=tuple(values.get("lengths", (1, 10))),
                                fold_o_to_zero=bool(values.get("fold_o_to_zero", False)),
                                max_length=int(values.get("max_length", 0)),
                                formats=tuple(values.get("formats", ())),
                                format_swap_min_probability=float(values.get("format_swap_min_probability", 0.05)))
            for region, values in data.items()}


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
                 network_dir: Path | None = None, rules: dict[str, RegionRules] | None = None) -> None:
        settings = settings or load_settings()
        self.stock = stock
        self.region = region
        self.rules = rules if rules is not None else load_rules()
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
        self._letters_with_o = np.array([i for i in range(1, len(upper)) if upper[i].isalpha() and upper[i] == characters[i]])
        self._digits = np.array([i for i in range(1, len(upper)) if upper[i] in DIGITS])

    def read(self, crops: list[np.ndarray], region: str | None = None) -> list[PlateText]:
        """Read each crop (BGR or grayscale, the plate box from the detector). ``region`` ("us", "eu", "br")
        overrides the reader's for these crops: each region's reading rules apply to its plates only."""
        return [self.decode(probs, region or self.region) for probs in self.probabilities(crops)]

    def probabilities(self, crops: list[np.ndarray]) -> list[np.ndarray | None]:
        """The network's per-step character probabilities for each crop (None: too small to read)."""
        import torch
        from easyocr.recognition import AlignCollate
        from easyocr.utils import get_image_list
        from PIL import Image

        results: list[np.ndarray | None] = []
        for crop in crops:
            gray = prepare_crop(crop)
            height, width = gray.shape[:2]
            if height < 4 or width < 4:
                results.append(None)
                continue
            image_list, max_width = get_image_list([[0, width, 0, height]], [], gray, model_height=64)
            collate = AlignCollate(imgH=64, imgW=int(max_width), keep_ratio_with_pad=True)
            tensor = collate([Image.fromarray(image, "L") for _, image in image_list])
            with torch.no_grad():
                logits = self.reader.recognizer(tensor, None)
            results.append(torch.softmax(logits, dim=2)[0].numpy())
        return results

    def decode(self, probs: np.ndarray | None, region: str, rules: RegionRules | None = None) -> PlateText:
        """Best path of ``probs`` with each character's confidence and runner-up, then the region's rules."""
        if probs is None:
            return PlateText("")
        rules = rules or self.rules.get(region, RegionRules())
        probs = probs * self._allowed[None, :]
        probs = probs / np.clip(probs.sum(axis=1, keepdims=True), 1e-9, None)
        best = probs.argmax(axis=1)
        chars, confidences, alternatives, by_kind, steps = [], [], [], [], []
        previous = 0
        for step, index in enumerate(best):
            if index != 0 and index != previous:
                char = self._upper[index]
                ranked = np.argsort(probs[step])[::-1]
                runner = next((i for i in ranked if i not in (0, index) and self._upper[i] != char), None)
                chars.append(char)
                steps.append(step)
                confidences.append(float(probs[step, index]))
                alternatives.append((self._upper[runner] if runner is not None else "",
                                     float(probs[step, runner]) if runner is not None else 0.0))
                letters = self._letters if rules.fold_o_to_zero else self._letters_with_o
                by_kind.append({kind: (self._upper[pool[k]], float(probs[step, pool[k]]))
                                for kind, pool in (("L", letters), ("D", self._digits)) if len(pool)
                                for k in [int(np.argmax(probs[step, pool]))]})
            previous = index
        if rules.max_length:
            chars, confidences, alternatives, by_kind = trim_to_length(chars, confidences, alternatives,
                                                                       rules.max_length, by_kind)
        if rules.fold_o_to_zero:
            chars = [fold_us(c) for c in chars]
            alternatives = [(fold_us(alt), p) for alt, p in alternatives]
        if rules.formats:
            chars, confidences, alternatives = fit_format(chars, confidences, alternatives, by_kind, rules.formats,
                                                          rules.format_swap_min_probability, rules.fold_o_to_zero)
        extras = {} if rules.fits_length("".join(chars)) else {"unusual_length": True}
        if steps:  # where the first and last characters sit among the network's output columns (edges)
            extras.update(first_step=steps[0], last_step=steps[-1], steps=len(best))
        return PlateText("".join(chars), tuple(confidences), tuple(alternatives), extras)


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


def _fits(char: str, kind: str, folded: bool = True) -> bool:
    if folded and char == "0":
        return True  # 0 may be a folded letter O
    return char in DIGITS if kind == "D" else char.isalpha()


def fit_format(chars: list[str], confidences: list[float], alternatives: list, by_kind: list[dict],
               formats: tuple[str, ...], min_probability: float = 0.05, folded: bool = True):
    """A reading one letter/digit swap away from one of the region's formats takes that swap (8 for B,
    0 for D...) when the network gave the swapped-in character at least ``min_probability``; the character it
    replaces becomes that position's alternative. ``by_kind``: per character, the best letter and the best
    digit with their probabilities ({"L": (char, p), "D": (char, p)})."""
    chars, confidences, alternatives = list(chars), list(confidences), list(alternatives)
    if any(len(pattern) == len(chars) and all(_fits(c, k, folded) for c, k in zip(chars, pattern, strict=True))
           for pattern in formats):
        return chars, confidences, alternatives
    best = None
    for pattern in formats:
        if len(pattern) != len(chars):
            continue
        wrong = [i for i, (char, kind) in enumerate(zip(chars, pattern, strict=True)) if not _fits(char, kind, folded)]
        if len(wrong) == 1 and pattern[wrong[0]] in by_kind[wrong[0]]:
            candidate, probability = by_kind[wrong[0]][pattern[wrong[0]]]
            if probability >= min_probability and (best is None or probability > best[2]):
                best = (wrong[0], candidate, probability)
    if best is not None:
        position, candidate, probability = best
        alternatives[position] = (chars[position], confidences[position])
        chars[position], confidences[position] = candidate, probability
    return chars, confidences, alternatives
