"""Sample footage for the demo notebook and the tests: cars carrying given plates drive across a street
scene, written as a real video file with OpenCV (or as still photos)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..recognition.synth import find_fonts, render_us_plate


def _car(rng: np.random.Generator, plate: np.ndarray, plate_width: int) -> np.ndarray:
    """A car's rear: body, window, lights, the plate in the middle of the bumper (BGR)."""
    width, height = int(plate_width * 3.2), int(plate_width * 2.0)
    body = tuple(int(v) for v in rng.integers(40, 220, 3))
    car = np.full((height, width, 3), body, np.uint8)
    cv2.rectangle(car, (int(width * 0.12), int(height * 0.05)), (int(width * 0.88), int(height * 0.38)), (60, 60, 60), -1)
    cv2.rectangle(car, (int(width * 0.03), int(height * 0.45)), (int(width * 0.17), int(height * 0.58)), (30, 30, 200), -1)
    cv2.rectangle(car, (int(width * 0.83), int(height * 0.45)), (int(width * 0.97), int(height * 0.58)), (30, 30, 200), -1)
    plate_height = int(plate_width * plate.shape[0] / plate.shape[1])
    resized = cv2.resize(cv2.cvtColor(plate, cv2.COLOR_RGB2BGR), (plate_width, plate_height), interpolation=cv2.INTER_AREA)
    top, left = int(height * 0.55), (width - plate_width) // 2
    car[top:top + plate_height, left:left + plate_width] = resized
    cv2.rectangle(car, (0, int(height * 0.9)), (width, height), (25, 25, 25), -1)
    return car


def _street(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    scene = np.zeros((height, width, 3), np.uint8)
    scene[: height // 3] = (200, 170, 140)  # buildings
    scene[height // 3:] = (90, 90, 90)  # road
    for x in range(0, width, 160):
        cv2.rectangle(scene, (x + 20, 20), (x + 120, height // 3 - 10), tuple(int(v) for v in rng.integers(90, 200, 3)), -1)
    cv2.line(scene, (0, int(height * 0.75)), (width, int(height * 0.75)), (220, 220, 220), 4)
    return scene


def write_clip(path: Path, plates: list[str], seconds: float = 6.0, fps: float = 25.0,
               size: tuple[int, int] = (1280, 720), seed: int = 0) -> Path:
    """A video in which each plate in ``plates`` passes by on a car, one after another, left to right."""
    rng = np.random.default_rng(seed)
    fonts = find_fonts()
    width, height = size
    street = _street(rng, width, height)
    cars = [_car(rng, render_us_plate(rng, fonts, text, clean=True)[0], int(width * 0.14)) for text in plates]
    frame_count = int(seconds * fps)
    per_car = frame_count / max(1, len(cars))
    suffix = Path(path).suffix.lower()
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if suffix in (".mp4", ".mov", ".m4v") else "MJPG"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    try:
        for index in range(frame_count):
            frame = street.copy()
            number = min(len(cars) - 1, int(index // per_car))
            car = cars[number]
            progress = (index - number * per_car) / per_car  # 0 -> 1 while this car crosses
            x = int(-car.shape[1] * 0.2 + progress * (width - car.shape[1] * 0.6))
            y = int(height * 0.42)
            left, right = max(0, x), min(width, x + car.shape[1])
            if right > left:
                frame[y:y + car.shape[0], left:right] = car[: height - y, left - x:right - x]
            writer.write(frame)
    finally:
        writer.release()
    return Path(path)


def write_photo(path: Path, plate: str, size: tuple[int, int] = (1280, 720), seed: int = 0) -> Path:
    """A still photo of one car with ``plate``."""
    rng = np.random.default_rng(seed)
    width, height = size
    frame = _street(rng, width, height)
    car = _car(rng, render_us_plate(rng, find_fonts(), plate, clean=True)[0], int(width * 0.16))
    x, y = (width - car.shape[1]) // 2, int(height * 0.4)
    frame[y:y + car.shape[0], x:x + car.shape[1]] = car[: height - y]
    if not cv2.imwrite(str(path), frame):
        raise RuntimeError(f"OpenCV cannot write {path}")
    return Path(path)
