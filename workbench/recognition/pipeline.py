"""Footage -> sampled frames -> YOLO plate boxes -> ByteTrack tracks -> best crops -> plate reader ->
per-character vote -> one read per physical plate. Memory stays bounded: one frame, plus at most
``crops_per_track`` crops for each plate seen."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from ..settings import Settings, load_settings
from . import models
from .gps import GpsTrack, find_sidecar, read_sidecar
from .ocr import PlateReader
from .results import CameraPlacement, FootageReads
from .sources import FootageInfo, frames, probe, resolve_upload, sample_count
from .text import edit_distance
from .voting import vote

TRACKER = Path(__file__).resolve().parent / "bytetrack_sampled.yaml"
# The fastanpr detector's boxes are about 16% wider and 40% taller than the plate (median on plates-dev);
# trimming 14% off top and bottom read best there (US exact 40% -> 67%, EU 74% -> 79%, held-out half).
CROP_MARGIN_X = 0.0
CROP_MARGIN_Y = -0.14
MIN_BOX_HEIGHT = 10  # pixels: below this no reader reads a plate
# Stills are not in a hurry: at 1280 the detector found every US plate of plates-dev (960: 95%, 640: 92%),
# at 1.8x the time of 960, which video keeps to stay faster than real time on two cores.
PHOTO_IMAGE_SIZE = 1280


@dataclass
class _Look:
    score: float
    crop: np.ndarray
    frame_index: int
    seconds: float
    box: np.ndarray
    source: str


@dataclass
class _Track:
    track_id: int
    first_seen_s: float
    last_seen_s: float
    looks: list[_Look] = field(default_factory=list)

    def offer(self, look: _Look, keep: int) -> None:
        self.looks.append(look)
        self.looks.sort(key=lambda item: item.score, reverse=True)
        del self.looks[keep:]


def sharpness(gray: np.ndarray) -> float:
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def footage_track(footage: Path, kind: str, gps: GpsTrack | str | Path | None,
                  upload_dir: Path | None) -> GpsTrack | None:
    """Where a camera was: ``gps`` as given (a track, or a GPX/SRT file that must lie in ``upload_dir`` like
    the footage; None skips that check), else a .gpx/.srt of the same name beside a video, else None."""
    if isinstance(gps, GpsTrack):
        return gps
    if gps is not None:
        return read_sidecar(resolve_upload(gps, upload_dir) if upload_dir is not None else Path(gps))
    sidecar = find_sidecar(footage) if kind == "video" else None
    return read_sidecar(sidecar) if sidecar else None


def crop_rect(box: np.ndarray, margin_x: float = CROP_MARGIN_X,
              margin_y: float = CROP_MARGIN_Y) -> tuple[float, float, float, float]:
    """The rectangle (x1, y1, x2, y2) read from a detector box (xyxy), widened (positive margins) or trimmed
    (negative) per side: what the reader sees, and what training crops are cut to."""
    x1, y1, x2, y2 = (float(v) for v in box)
    pad_x, pad_y = (x2 - x1) * margin_x, (y2 - y1) * margin_y
    return x1 - pad_x, y1 - pad_y, x2 + pad_x, y2 + pad_y


def crop_box(image: np.ndarray, box: np.ndarray, margin_x: float = CROP_MARGIN_X,
             margin_y: float = CROP_MARGIN_Y) -> np.ndarray:
    """The plate crop of a detector box (xyxy), as ``crop_rect`` draws it, inside the image."""
    x1, y1, x2, y2 = crop_rect(box, margin_x, margin_y)
    left, top = int(max(0, x1)), int(max(0, y1))
    right, bottom = int(min(image.shape[1], x2)), int(min(image.shape[0], y2))
    return image[top:bottom, left:right].copy()


class Recognizer:
    """Plate detector and reader, loaded once and reused for many files."""

    def __init__(self, settings: Settings | None = None, *, reader: PlateReader | None = None,
                 image_size: int | None = None, photo_image_size: int | None = PHOTO_IMAGE_SIZE,
                 min_confidence: float = 0.25, crops_per_track: int = 5) -> None:
        self.settings = settings or load_settings()
        self.detector = models.load_detector(models.detector_weights(self.settings))
        self.reader = reader or PlateReader(self.settings)
        self.image_size = int(image_size or self.settings.detector_image_size)
        self.photo_image_size = max(self.image_size, int(photo_image_size or 0))
        self.min_confidence = min_confidence
        self.crops_per_track = crops_per_track

    def detect(self, image: np.ndarray, track: bool, first: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes (n, 4) xyxy, confidences (n,), track ids (n,; -1 when the tracker gave none)."""
        if track:
            # persist=False on a file's first frame starts a fresh ByteTrack state for it.
            result = self.detector.track(image, persist=not first, tracker=str(TRACKER), imgsz=self.image_size,
                                         conf=self.min_confidence, verbose=False)[0]
        else:
            result = self.detector.predict(image, imgsz=self.photo_image_size, conf=self.min_confidence,
                                           verbose=False)[0]
        boxes = result.boxes
        xyxy = boxes.xyxy.cpu().numpy() if len(boxes) else np.zeros((0, 4))
        confidence = boxes.conf.cpu().numpy() if len(boxes) else np.zeros(0)
        ids = boxes.id.cpu().numpy().astype(int) if (len(boxes) and boxes.id is not None) else np.full(len(xyxy), -1)
        return xyxy, confidence, ids

    def run(self, path: str | Path, camera: CameraPlacement | None = None, *, frames_per_second: float | None = None,
            progress: bool = True, cancel: threading.Event | None = None, check_upload_dir: bool = True,
            gps: GpsTrack | str | Path | None = None) -> FootageReads:
        """Recognize the plates in a video, an image or a folder of images inside the upload folder. A GPS
        sidecar (``gps``, or a .gpx/.srt of the same name beside a video) places each read where the camera was."""
        resolved = resolve_upload(path, Path(self.settings.upload_dir)) if check_upload_dir else Path(path)
        info = probe(resolved)
        track = footage_track(resolved, info.kind, gps, Path(self.settings.upload_dir) if check_upload_dir else None)
        fps = float(frames_per_second or self.settings.frames_per_second)
        tracks: dict[int, _Track] = {}
        next_solo_id = 1_000_000  # detections the tracker did not assign: each its own plate
        timings = {"detect_s": 0.0, "read_s": 0.0, "frames": 0}
        started = time.perf_counter()
        is_video = info.kind == "video"
        cancelled = False
        bar = tqdm(total=sample_count(info, fps), desc=f"recognizing {info.path.name}", unit="frame",
                   disable=not progress)
        try:
            for number, frame in enumerate(frames(info, fps)):
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                tick = time.perf_counter()
                boxes, confidences, ids = self.detect(frame.image, track=is_video, first=number == 0)
                timings["detect_s"] += time.perf_counter() - tick
                timings["frames"] += 1
                for box, confidence, track_id in zip(boxes, confidences, ids, strict=True):
                    if box[3] - box[1] < MIN_BOX_HEIGHT:
                        continue
                    if track_id < 0 or not is_video:
                        track_id, next_solo_id = next_solo_id, next_solo_id + 1
                    crop = crop_box(frame.image, box)
                    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
                    # Bigger and sharper looks read better: score by height and focus.
                    score = float(confidence) * (box[3] - box[1]) * np.log1p(sharpness(gray))
                    entry = tracks.setdefault(int(track_id), _Track(int(track_id), frame.seconds, frame.seconds))
                    entry.last_seen_s = frame.seconds
                    entry.offer(_Look(score, crop, frame.index, frame.seconds, box.copy(), frame.source),
                                self.crops_per_track)
                bar.update(1)
        finally:
            bar.close()
        tick = time.perf_counter()
        plates = []
        for entry in tracks.values():
            readings = self.reader.read([look.crop for look in entry.looks])
            weights = [look.score for look in entry.looks]
            result = vote(readings, weights)
            if len(result.text) >= 2:
                plates.append((entry, result))
        timings["read_s"] = time.perf_counter() - tick
        timings["wall_s"] = time.perf_counter() - started
        timings["footage_s"] = info.duration_s
        plates = _merge_same_plate(plates)
        reads = _to_reads(plates, info, camera, timings, cancelled)
        return reads.place_on_track(track) if track is not None and len(reads) else reads


def _merge_same_plate(plates: list) -> list:
    """ByteTrack can lose a fast plate between sampled frames; tracks that read the same text (or within one
    character, same length) less than 3 s apart are one vehicle: keep the one with more looks."""
    plates = sorted(plates, key=lambda item: item[0].first_seen_s)
    merged: list = []
    for entry, result in plates:
        twin = next((i for i, (other, other_result) in enumerate(merged)
                     if len(other_result.text) == len(result.text)
                     and edit_distance(other_result.text, result.text) <= 1
                     and entry.first_seen_s - other.last_seen_s <= 3.0), None)
        if twin is None:
            merged.append((entry, result))
            continue
        other, other_result = merged[twin]
        other.first_seen_s = min(other.first_seen_s, entry.first_seen_s)
        other.last_seen_s = max(other.last_seen_s, entry.last_seen_s)
        keep = result if result.looks > other_result.looks else other_result
        if keep is result:
            other.looks = entry.looks
        merged[twin] = (other, keep)
    return merged


def _to_reads(plates: list, info: FootageInfo, camera: CameraPlacement | None, timings: dict,
              cancelled: bool) -> FootageReads:
    if not plates:
        return FootageReads.empty(footage=info, camera=camera, timings=timings, cancelled=cancelled)
    best = [entry.looks[0] for entry, _ in plates]
    return FootageReads(
        text=np.array([result.text for _, result in plates], dtype=object),
        confidence=np.array([float(np.prod(result.char_confidence)) for _, result in plates]),
        char_confidence=[result.char_confidence for _, result in plates],
        alternatives=[result.alternatives for _, result in plates],
        track_id=np.array([entry.track_id for entry, _ in plates]),
        first_seen_s=np.array([entry.first_seen_s for entry, _ in plates]),
        last_seen_s=np.array([entry.last_seen_s for entry, _ in plates]),
        looks=np.array([result.looks for _, result in plates]),
        agreeing=np.array([result.agreeing for _, result in plates]),
        box=np.array([look.box for look in best], dtype=float),
        frame_index=np.array([look.frame_index for look in best]),
        frame_source=[look.source for look in best],
        crops=[look.crop for look in best],
        footage=info, camera=camera, timings=timings, cancelled=cancelled)


def recognize(path: str | Path, camera: CameraPlacement | None = None, *, settings: Settings | None = None,
              frames_per_second: float | None = None, progress: bool = True,
              cancel: threading.Event | None = None) -> FootageReads:
    """Plates in footage inside the upload folder; models load once per process and are reused."""
    return _shared_recognizer(settings).run(path, camera, frames_per_second=frames_per_second, progress=progress,
                                            cancel=cancel)


_RECOGNIZERS: dict[tuple, Recognizer] = {}


def _shared_recognizer(settings: Settings | None) -> Recognizer:
    settings = settings or load_settings()
    key = (str(models.detector_weights(settings)), str(settings.plate_recognizer_dir), settings.detector_image_size)
    if key not in _RECOGNIZERS:
        _RECOGNIZERS[key] = Recognizer(settings)
    return _RECOGNIZERS[key]
