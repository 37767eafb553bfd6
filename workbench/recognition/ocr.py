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
from .synth import fold_us

ALLOWED = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
US_MAX_LENGTH = 7  # no US state issues longer plates; measured to help on plates-dev US (see MODEL_CARD)


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

    def read(self, crops: list[np.ndarray]) -> list[PlateText]:
        """Read each crop (BGR or grayscale, the plate box from the detector)."""
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
            results.append(self._decode(probs))
        return results

    def _decode(self, probs: np.ndarray) -> PlateText:
        probs = probs * self._allowed[None, :]
        probs = probs / np.clip(probs.sum(axis=1, keepdims=True), 1e-9, None)
        best = probs.argmax(axis=1)
        chars, confidences, alternatives = [], [], []
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
            previous = index
        if self.region == "us":
            chars, confidences, alternatives = trim_to_length(chars, confidences, alternatives, US_MAX_LENGTH)
            # US plates have no letter O; measured to help on plates-dev US
            chars = [fold_us(c) for c in chars]
            alternatives = [(fold_us(alt), p) for alt, p in alternatives]
        return PlateText("".join(chars), tuple(confidences), tuple(alternatives))


def trim_to_length(chars: list[str], confidences: list[float], alternatives: list, limit: int):
    """Drop end characters, least confident first, until at most ``limit`` remain: a reading longer than any
    plate has picked up a frame edge, bolt or emblem beside the characters, and those sit at the ends."""
    chars, confidences, alternatives = list(chars), list(confidences), list(alternatives)
    while len(chars) > limit:
        end = 0 if confidences[0] < confidences[-1] else -1
        del chars[end], confidences[end], alternatives[end]
    return chars, confidences, alternatives
