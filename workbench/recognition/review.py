"""A person's review of footage reads: each is confirmed, corrected or rejected against its crop before
anything is saved (Long Beach 6.3.3.1, Manhattan Beach 462.8). Corrections keep the original OCR text."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import cv2

from ..errors import FootageError
from .results import FootageReads

_PLATE = re.compile(r"^[A-Z0-9]{2,10}$")


@dataclass(frozen=True)
class Decision:
    action: str  # "confirmed", "corrected" or "rejected"
    plate: str  # what the person says the plate is (the OCR text when confirmed)
    state: str | None = None


class Review:
    """Decisions on every read of one footage run; ``payload()`` is what the ingest call receives."""

    def __init__(self, reads: FootageReads) -> None:
        if reads.camera is None:
            raise FootageError("these reads have no camera location and start time; run recognition with a "
                               "CameraPlacement so the saved reads say where and when")
        self.reads = reads
        self.decisions: dict[int, Decision] = {}

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self.reads):
            raise FootageError(f"there is no read {index}; the footage has {len(self.reads)}")

    def confirm(self, index: int, state: str | None = "CA") -> None:
        self._check(index)
        self.decisions[index] = Decision("confirmed", str(self.reads.text[index]), state)

    def correct(self, index: int, plate: str, state: str | None = "CA") -> None:
        self._check(index)
        cleaned = re.sub(r"[\s-]", "", plate or "").upper()
        if not _PLATE.match(cleaned):
            raise FootageError(f"{plate!r} is not a plate: 2 to 10 letters or digits")
        action = "confirmed" if cleaned == self.reads.text[index] else "corrected"
        self.decisions[index] = Decision(action, cleaned, state)

    def reject(self, index: int) -> None:
        self._check(index)
        self.decisions[index] = Decision("rejected", str(self.reads.text[index]))

    def pending(self) -> list[int]:
        return [i for i in range(len(self.reads)) if i not in self.decisions]

    def accepted(self) -> list[int]:
        return sorted(i for i, d in self.decisions.items() if d.action != "rejected")

    def payload(self) -> tuple[dict, list[dict]]:
        """(footage, reads): the footage file as registered in the evidence store (``api.register_footage``), and
        the accepted reads with crops, times, the OCR's text and the decision (``api.ingest_footage_reads``)."""
        if self.pending():
            raise FootageError(f"decide every read first (confirm, correct or reject): reads {self.pending()} "
                               "are undecided")
        camera, info = self.reads.camera, self.reads.footage
        if info is None:
            raise FootageError("these reads do not say which footage file they came from; run recognition on the "
                               "file (Recognizer.run) so it can be registered as evidence")
        _, size, sha256 = info.evidence()
        footage = {"file_name": info.path.name, "sha256": sha256, "size_bytes": size, "media_type": info.media_type,
                   "duration_s": info.duration_s, "frame_count": info.frames, "recorded_start": camera.start.isoformat(),
                   "clock_offset_s": camera.clock_offset_s, "lat": camera.lat, "lon": camera.lon,
                   "heading_deg": camera.heading_deg, "label": camera.label or info.path.name}
        times = self.reads.read_times()
        where = self.reads.locations() if self.reads.positions is not None else None
        rows = []
        for index in self.accepted():
            decision = self.decisions[index]
            ok, jpeg = cv2.imencode(".jpg", self.reads.crops[index], [cv2.IMWRITE_JPEG_QUALITY, 92])
            if not ok:
                raise FootageError(f"the crop of read {index} could not be encoded")
            rows.append({"plate": decision.plate, "ocr_text": str(self.reads.text[index]), "review": decision.action,
                         "state": decision.state, "read_at": times[index].isoformat(),
                         "confidence": round(float(self.reads.confidence[index]), 4),
                         "char_confidence": [round(c, 4) for c in self.reads.char_confidence[index]],
                         "alternatives": [[alt, round(p, 4)] for alt, p in self.reads.alternatives[index]],
                         "crop_jpeg_base64": base64.b64encode(jpeg.tobytes()).decode()})
            if where is not None:  # a moving camera: where it was when it saw this plate
                rows[-1].update(lat=float(where[index, 0]), lon=float(where[index, 1]))
        if not rows:
            raise FootageError("every read was rejected; there is nothing to save")
        return footage, rows
