"""Accuracy on an agency's own labelled photos: detection recall, exact plate, within one character,
broken down by condition (night, angle, distance) when the labels carry one."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import FootageError
from .dataset import IMAGE_SUFFIXES, LabelledPhoto, load_labelled_photos, plate_crop
from .ocr import PlateReader
from .pipeline import Recognizer, crop_box, crop_rect
from .text import edit_distance


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two xyxy boxes."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def detector_cut_boxes(photos: list[LabelledPhoto], recognizer: Recognizer, image_size: int,
                       progress: bool = True) -> list[tuple[float, float, float, float] | None]:
    """For each photo, the crop the pipeline would cut (x, y, width, height) from the detector box that best
    overlaps the labelled one at ``image_size``; None where no box overlaps it by IoU >= 0.3. Training on
    these teaches the recognizer the framing it will actually get."""
    saved, recognizer.photo_image_size = recognizer.photo_image_size, image_size
    cuts: list[tuple[float, float, float, float] | None] = []
    try:
        for photo in tqdm(photos, desc=f"detecting at {image_size}", unit="photo", disable=not progress):
            image = cv2.imread(str(photo.path))
            x, y, w, h = photo.box
            boxes, _, _ = recognizer.detect(image, track=False, first=True) if image is not None else ([], [], [])
            overlaps = [iou(box, np.array([x, y, x + w, y + h], float)) for box in boxes]
            if not overlaps or max(overlaps) < 0.3:
                cuts.append(None)
                continue
            x1, y1, x2, y2 = crop_rect(boxes[int(np.argmax(overlaps))])
            cuts.append((x1, y1, x2 - x1, y2 - y1))
    finally:
        recognizer.photo_image_size = saved
    return cuts


def read_labels(labels_csv: Path, images: Path) -> list[LabelledPhoto]:
    """Labels CSV: file, plate[, x, y, width, height][, condition]; or, with no CSV, a .txt beside each image."""
    if labels_csv is None:
        return load_labelled_photos(images)
    photos = []
    with open(labels_csv, newline="") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            if "file" not in row or "plate" not in row:
                raise FootageError(f"{labels_csv}: needs columns file and plate (and optionally x, y, width, height, "
                                   "condition, region)")
            path = (images / row["file"]) if images.is_dir() else images
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                raise FootageError(f"{labels_csv} line {row_no}: no image {path}")
            box = tuple(int(float(row[k])) for k in ("x", "y", "width", "height")) if row.get("x") else (0, 0, 0, 0)
            photos.append(LabelledPhoto(path, box, row["plate"].upper().replace(" ", "").replace("-", ""),
                                        row.get("region", "us") or "us", row.get("condition", "") or ""))
    return photos


@dataclass
class Evaluation:
    per_photo: pd.DataFrame

    def summary(self, by: str | None = None) -> dict:
        frame = self.per_photo
        def figures(part: pd.DataFrame) -> dict:
            has_box = part["has_box"]
            return {"photos": len(part),
                    "detection_recall_iou30": round(float(part.loc[has_box, "iou"].ge(0.3).mean()), 3) if has_box.any() else None,
                    "detection_recall_iou50": round(float(part.loc[has_box, "iou"].ge(0.5).mean()), 3) if has_box.any() else None,
                    "exact": round(float(part["exact"].mean()), 3),
                    "within_one": round(float(part["within_one"].mean()), 3),
                    "exact_given_true_box": (round(float(part.loc[has_box, "exact_true_box"].mean()), 3)
                                             if has_box.any() else None)}
        result = figures(frame)
        if by and by in frame and frame[by].astype(bool).any():
            result[f"by_{by}"] = {str(key): figures(part) for key, part in frame.groupby(by)}
        return result


def evaluate(photos: list[LabelledPhoto], recognizer: Recognizer, reader: PlateReader | None = None,
             progress: bool = True) -> Evaluation:
    """Detect each photo's plates, take the box that best overlaps the labelled one (or the most confident when
    the label has no box), read it, and compare with the label. ``reader`` overrides the recognizer's reader."""
    reader = reader or recognizer.reader
    rows = []
    for photo in tqdm(photos, desc="evaluating", unit="photo", disable=not progress):
        image = cv2.imread(str(photo.path))
        if image is None:
            raise FootageError(f"{photo.path} is not an image OpenCV can decode")
        x, y, w, h = photo.box
        truth = np.array([x, y, x + w, y + h], float)
        has_box = w > 0 and h > 0
        tick = time.perf_counter()
        boxes, confidences, _ = recognizer.detect(image, track=False, first=True)
        detect_ms = (time.perf_counter() - tick) * 1000
        overlaps = [iou(box, truth) for box in boxes] if has_box else list(confidences)
        best = int(np.argmax(overlaps)) if len(boxes) else None
        overlap = overlaps[best] if (best is not None and has_box) else 0.0
        label = photo.label
        region = photo.region or None  # US rules for US plates only; unknown: the reader's own
        text, read_ms = "", 0.0
        if best is not None and (overlap >= 0.3 or not has_box):
            tick = time.perf_counter()
            text = reader.read([crop_box(image, boxes[best])], region)[0].text
            read_ms = (time.perf_counter() - tick) * 1000
        # The labelled box is tight: give it the margin the recognizer was trained with.
        true_box_text = reader.read([plate_crop(image, photo.box)], region)[0].text if has_box else ""
        rows.append({"file": photo.path.name, "region": photo.region, "condition": photo.condition, "label": label,
                     "read": text, "has_box": has_box, "iou": overlap, "exact": text == label,
                     "within_one": bool(text) and edit_distance(text, label) <= 1,
                     "read_true_box": true_box_text, "exact_true_box": true_box_text == label,
                     "detect_ms": detect_ms, "read_ms": read_ms})
    return Evaluation(pd.DataFrame(rows))
