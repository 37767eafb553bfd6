"""Labelled plate photos (one ``.txt`` beside each image: file, x, y, width, height, text) and the
fixed train/validation split used by training, ``workbench recognize evaluate`` and the benchmark.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .text import fold_us

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
REGIONS = ("us", "eu", "br")
# plates-crops' README: the same photo twice; each pair is kept in one half of the split.
NEAR_DUPLICATES = {"tx1573": "tx1030", "sd1068": "sd300", "nj348": "nj104", "ky1249": "ky319", "me847": "me203"}


@dataclass(frozen=True)
class LabelledPhoto:
    path: Path
    box: tuple[int, int, int, int]  # x, y, width, height of the plate, pixels, top-left origin
    text: str
    region: str  # "us", "eu" or "br" (the folder it came from), or "" when unknown
    condition: str = ""  # optional fourth label column: night, angle, distance...

    @property
    def split(self) -> str:
        """'train' or 'val', fixed by the file name so every tool agrees; the two photos of a near-duplicate
        pair (the same photo twice, NEAR_DUPLICATES) always fall in the same half."""
        name = self.path.name
        stem = self.path.stem.lower()
        if stem in NEAR_DUPLICATES:
            name = NEAR_DUPLICATES[stem] + self.path.suffix
        digest = hashlib.sha1(name.encode()).digest()
        return "train" if digest[0] % 2 == 0 else "val"

    @property
    def whole_image(self) -> bool:
        """A crop that is the plate itself (plates-crops), not a photo with the plate in it."""
        x, y, w, h = self.box
        image = cv2.imread(str(self.path), cv2.IMREAD_UNCHANGED)
        return image is not None and x <= 1 and y <= 1 and w >= image.shape[1] - 2 and h >= image.shape[0] - 2

    @property
    def label(self) -> str:
        """The text the recognizer is trained to read (US plates: no letter O)."""
        return fold_us(self.text) if self.region == "us" else self.text


def load_labelled_photos(folder: Path) -> list[LabelledPhoto]:
    """Every labelled photo under ``folder``; the sub-folder name (us, eu, br) is the region."""
    photos = []
    for label_file in sorted(Path(folder).rglob("*.txt")):
        fields = label_file.read_text().strip().split("\t")
        if len(fields) < 6:
            continue
        image = label_file.parent / fields[0]
        if image.suffix.lower() not in IMAGE_SUFFIXES or not image.is_file():
            continue
        region = label_file.parent.name.lower() if label_file.parent.name.lower() in REGIONS else ""
        photos.append(LabelledPhoto(image, tuple(int(float(v)) for v in fields[1:5]), fields[5].upper(), region,
                                    fields[6] if len(fields) > 6 else ""))
    return photos


# The margin around a tight labelled box that the recognizer is validated with (and trained around).
PLATE_MARGIN_X = 0.06
PLATE_MARGIN_Y = 0.12


def plate_crop(image: np.ndarray, box: tuple[int, int, int, int], margin_x: float = PLATE_MARGIN_X,
               margin_y: float = PLATE_MARGIN_Y) -> np.ndarray:
    """The plate (box: x, y, width, height) with the margin the recognizer is validated with."""
    x, y, w, h = box
    x0, y0 = max(0, int(x - w * margin_x)), max(0, int(y - h * margin_y))
    x1, y1 = min(image.shape[1], int(x + w * (1 + margin_x))), min(image.shape[0], int(y + h * (1 + margin_y)))
    return image[y0:y1, x0:x1]


def training_crops(photos: list[LabelledPhoto], context: float = 0.4, max_height: int = 120,
                   cut_boxes: list[tuple[float, float, float, float] | None] | None = None):
    """Grayscale crops with ``context`` around each plate (for box jitter in training), the box to cut in
    the crop, and the label: what the training script carries, instead of the photos themselves.

    ``cut_boxes`` (x, y, width, height per photo, or None) are the crops the pipeline itself would cut,
    from the detector's boxes; without one the true box widened by ``plate_crop``'s margin is used."""
    crops = []
    for index, photo in enumerate(photos):
        image = cv2.imread(str(photo.path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            continue
        cut = cut_boxes[index] if cut_boxes is not None else None
        if cut is None:
            x, y, w, h = photo.box
            cut = (x - w * PLATE_MARGIN_X, y - h * PLATE_MARGIN_Y, w * (1 + 2 * PLATE_MARGIN_X), h * (1 + 2 * PLATE_MARGIN_Y))
        x, y, w, h = cut
        x0, y0 = max(0, int(x - w * context)), max(0, int(y - h * context))
        x1, y1 = min(image.shape[1], int(x + w * (1 + context))), min(image.shape[0], int(y + h * (1 + context)))
        crop = image[y0:y1, x0:x1]
        scale = min(1.0, max_height / max(h, 1))
        crop = cv2.resize(crop, (max(1, int(crop.shape[1] * scale)), max(1, int(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
        crops.append((crop, np.array([(x - x0) * scale, (y - y0) * scale, w * scale, h * scale], np.float32),
                      photo.label))
    return crops


def cut_box(crop: np.ndarray, box) -> np.ndarray:
    """The part of a training crop the recognizer reads (``box``: x, y, width, height in the crop)."""
    x, y, w, h = box
    x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
    x1, y1 = min(crop.shape[1], int(round(x + w))), min(crop.shape[0], int(round(y + h)))
    return crop[y0:max(y1, y0 + 4), x0:max(x1, x0 + 8)]
