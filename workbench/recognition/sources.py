"""Footage input: videos streamed frame by frame (memory bounded by one frame), still images, folders.

Every path is checked against the upload folder first: the workbench reads footage only from there.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..digests import file_sha256
from ..errors import FootageError

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".m4v")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
MAX_PIXELS = 7680 * 4320  # 8K: anything larger is refused rather than exhausting memory
# A car at 40 mph covers 18 m/s; a plate stays readable over ~10-15 m of road in a CCTV or dash-cam
# view, i.e. for 0.5-0.8 s. Five frames a second gives it 3-4 looks, enough for a vote.
DEFAULT_FRAMES_PER_SECOND = 5.0


@dataclass(frozen=True)
class Frame:
    index: int  # frame number in the file (images: position in the folder)
    seconds: float  # time from the start of the footage
    image: np.ndarray  # BGR uint8
    source: str  # file name


@dataclass(frozen=True)
class FootageInfo:
    path: Path
    kind: str  # "video", "image" or "images"
    frames: int  # frames in the file (images: count)
    fps: float  # 0 for stills
    width: int
    height: int
    sha256: str

    @property
    def duration_s(self) -> float:
        """Seconds the footage spans: a video's length; a folder of stills is read as one image a second."""
        if self.kind == "images":
            return float(self.frames - 1)
        return self.frames / self.fps if self.fps else 0.0

    @property
    def media_type(self) -> str:
        if self.kind == "images":
            return "application/zip"
        return {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".avi": "video/x-msvideo",
                ".mkv": "video/x-matroska", ".png": "image/png"}.get(self.path.suffix.lower(), "image/jpeg")

    def evidence(self) -> tuple[bytes | Path, int, str]:
        """What goes into the evidence store, its size and sha256: the file itself, or for a folder of stills a
        zip of them made the same way every time (sorted names, fixed dates, stored)."""
        if self.kind != "images":
            return self.path, self.path.stat().st_size, file_sha256(self.path)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for image in _image_files(self.path):
                entry = zipfile.ZipInfo(image.name, date_time=(1980, 1, 1, 0, 0, 0))
                archive.writestr(entry, image.read_bytes())
        content = buffer.getvalue()
        return content, len(content), hashlib.sha256(content).hexdigest()


def resolve_upload(path: str | Path, upload_dir: Path) -> Path:
    """The real path of ``path``, which must lie inside ``upload_dir`` (no escape through .. or links)."""
    folder = Path(upload_dir).resolve()
    candidate = Path(path)
    resolved = (candidate if candidate.is_absolute() else folder / candidate).resolve()
    if not resolved.is_relative_to(folder):
        raise FootageError(f"{path} is outside the upload folder {folder}; copy the footage there first "
                           "(WORKBENCH_UPLOAD_DIR)")
    if not resolved.exists():
        raise FootageError(f"no footage at {resolved}")
    return resolved


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def probe(path: Path) -> FootageInfo:
    """What the file is, checked before any work: readable, a supported kind, frames present, sane size."""
    if path.is_dir():
        images = _image_files(path)
        if not images:
            raise FootageError(f"{path} holds no .jpg or .png images")
        first = _read_image(images[0])
        digest = hashlib.sha256("".join(file_sha256(p) for p in images).encode()).hexdigest()
        return FootageInfo(path, "images", len(images), 0.0, first.shape[1], first.shape[0], digest)
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        image = _read_image(path)
        return FootageInfo(path, "image", 1, 0.0, image.shape[1], image.shape[0], file_sha256(path))
    if suffix not in VIDEO_SUFFIXES:
        raise FootageError(f"{path.name}: unsupported kind {suffix or '(no suffix)'}; give a video "
                           f"({', '.join(VIDEO_SUFFIXES)}) or images ({', '.join(IMAGE_SUFFIXES)})")
    with path.open("rb") as handle:
        head = handle.read(8)
    if any(head.startswith(magic) for magic in _IMAGE_MAGIC):
        raise FootageError(f"{path.name} is an image named as a video; rename it to .png or .jpg")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise FootageError(f"{path.name} is not a video OpenCV can open (corrupt, truncated or an unsupported codec)")
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        ok, first = capture.read()
        if not ok or first is None:
            raise FootageError(f"{path.name} has no frame that can be decoded (zero frames, truncated, or an "
                               "unsupported codec)")
    finally:
        capture.release()
    if width * height > MAX_PIXELS:
        raise FootageError(f"{path.name} is {width}x{height}; frames larger than 8K (7680x4320) are refused")
    if not 0 < fps <= 1000:
        raise FootageError(f"{path.name} reports {fps} frames per second; re-encode it with a valid frame rate")
    if count <= 0:
        raise FootageError(f"{path.name} reports {count} frames: its container has no frame index (truncated, or "
                           "not a video); re-encode it")
    return FootageInfo(path, "video", count, fps, width, height, file_sha256(path))


_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


def _header_pixels(path: Path) -> tuple[int, int] | None:
    """An image's width and height from its header alone (Pillow opens lazily), before anything is decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except Image.DecompressionBombError as exc:  # Pillow's own refusal of a huge header: say how huge
        raise FootageError(f"{path.name}: {exc}; images larger than 8K (7680x4320) are refused") from None
    except (UnidentifiedImageError, OSError):
        return None


def _read_image(path: Path) -> np.ndarray:
    size = _header_pixels(path)
    if size is not None and size[0] * size[1] > MAX_PIXELS:  # refused from the header: never decoded
        raise FootageError(f"{path.name} is {size[0]}x{size[1]}; images larger than 8K (7680x4320) are refused")
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise FootageError(f"{path.name} is not an image OpenCV can decode (corrupt or not a jpg/png)")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise FootageError(f"{path.name} is {image.shape[1]}x{image.shape[0]}; images larger than 8K are refused")
    return image


def frames(info: FootageInfo, frames_per_second: float = DEFAULT_FRAMES_PER_SECOND) -> Iterator[Frame]:
    """Sampled frames, one at a time: a video at ``frames_per_second``; images each once."""
    if info.kind == "image":
        yield Frame(0, 0.0, _read_image(info.path), info.path.name)
        return
    if info.kind == "images":
        for index, path in enumerate(_image_files(info.path)):
            yield Frame(index, float(index), _read_image(path), path.name)
        return
    step = max(1, round(info.fps / frames_per_second))
    capture = cv2.VideoCapture(str(info.path))
    try:
        index = 0
        while True:
            if index % step == 0:
                ok, image = capture.read()
                if not ok:
                    break
                yield Frame(index, index / info.fps, image, info.path.name)
            elif not capture.grab():  # skip without decoding the picture
                break
            index += 1
    finally:
        capture.release()


def sample_count(info: FootageInfo, frames_per_second: float = DEFAULT_FRAMES_PER_SECOND) -> int:
    if info.kind != "video":
        return info.frames
    step = max(1, round(info.fps / frames_per_second))
    return -(-info.frames // step) if info.frames else 0
