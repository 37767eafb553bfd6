"""FootageReview: upload footage, say where and when it was taken, run recognition with a progress bar,
then confirm, correct or reject each read beside its crop; only reviewed reads are saved, under the case."""

from __future__ import annotations

import html
import re
import threading
from datetime import datetime
from pathlib import Path

import cv2
import ipywidgets as w

from ..errors import FootageError, WorkbenchError
from ..recognition.results import CameraPlacement
from ..recognition.review import Review
from ..recognition.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from ._common import Status, running, table_html
from .gate import AccessGate

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def store_upload(upload_dir: Path, name: str, content: bytes) -> Path:
    """Write an uploaded file into the upload folder under a safe name, atomically (no half-written file)."""
    safe = _SAFE_NAME.sub("_", Path(name).name).lstrip(".") or "footage"
    if Path(safe).suffix.lower() not in (*VIDEO_SUFFIXES, *IMAGE_SUFFIXES):
        raise FootageError(f"{name}: upload a video ({', '.join(VIDEO_SUFFIXES)}) or an image "
                           f"({', '.join(IMAGE_SUFFIXES)})")
    upload_dir.mkdir(parents=True, exist_ok=True)
    target = upload_dir / safe
    partial = upload_dir / f".{safe}.part"
    partial.write_bytes(content)
    partial.replace(target)
    return target


CHECK_BELOW = 0.80  # a character the network gave less than this is marked for the reviewer to check


def character_strip(text: str, confidences, alternatives) -> str:
    """Each character of a reading with its confidence and the runner-up it beat, the doubtful ones marked:
    the reviewer sees which character to check against the crop (the policies' visual verification)."""
    cells = []
    for position, char in enumerate(text):
        confidence = float(confidences[position]) if position < len(confidences) else 0.0
        runner, runner_p = alternatives[position] if position < len(alternatives) else ("", 0.0)
        doubtful = confidence < CHECK_BELOW
        style = ("border:1px solid #c0392b;background:#fdecea" if doubtful
                 else "border:1px solid #d0d7de;background:#f6f8fa")
        tip = f"{char}: {confidence:.0%}" + (f"; next {runner} {float(runner_p):.0%}" if runner else "")
        cells.append(
            f'<span class="workbench-char{" workbench-char-check" if doubtful else ""}" title="{html.escape(tip)}" '
            f'style="display:inline-block;min-width:2.1em;margin:0 2px;padding:2px 3px;text-align:center;{style}">'
            f'<b style="font-size:1.25em;font-family:monospace">{html.escape(char)}</b><br>'
            f'<small>{confidence:.0%}</small><br>'
            f'<small style="color:#57606a">{html.escape(runner) or "&nbsp;"}'
            f'{f" {float(runner_p):.0%}" if runner else ""}</small></span>')
    doubtful = sum(1 for c in confidences if float(c) < CHECK_BELOW)
    note = (f"check the marked character{'s' if doubtful > 1 else ''} against the image" if doubtful
            else "every character read with at least 80%")
    return (f'<div class="workbench-char-strip" style="line-height:1.2">{"".join(cells)}</div>'
            f"<small>{note}; below each: its confidence, then the runner-up</small>")


class _ReadRow(w.HBox):
    def __init__(self, index: int, text: str, crop, confidence: float, looks: int, char_confidence,
                 alternatives) -> None:
        ok, jpeg = cv2.imencode(".jpg", crop)
        self.index = index
        self.ocr_text = text
        self.image = w.Image(value=jpeg.tobytes() if ok else b"", format="jpeg",
                             layout=w.Layout(width="220px", object_fit="contain"))
        self.plate = w.Text(value=text, description="plate", layout=w.Layout(width="220px"))
        self.decision = w.ToggleButtons(options=["confirm", "reject"], value=None,
                                        tooltips=["the image shows this plate (edit it first if OCR got it wrong)",
                                                  "not a plate, or unreadable"])
        self.characters = w.HTML(character_strip(text, char_confidence, alternatives))
        self.info = w.HTML(f"<small>read {index}: OCR <code>{html.escape(text)}</code>, confidence {confidence:.2f}, "
                           f"{looks} looks</small>")
        super().__init__([self.image, w.VBox([self.plate, self.characters, self.decision, self.info])])
        self.add_class("workbench-read-row")


class FootageReview(w.VBox):
    def __init__(self, gate: AccessGate, file: str | None = None, lat: float = 33.7701, lon: float = -118.1937,
                 start: str = "", heading: float | None = None, clock_offset_s: float = 0.0) -> None:
        self.gate = gate
        self.settings = gate.workbench.settings  # the connection's own, passed down
        self.reads = None
        self.saved = None
        self._cancel = threading.Event()
        self._worker: threading.Thread | None = None
        self.upload = w.FileUpload(accept=",".join((*VIDEO_SUFFIXES, *IMAGE_SUFFIXES)), multiple=False,
                                   description="Upload footage")
        self.file = w.Dropdown(description="footage", options=self._files(), value=file,
                               layout=w.Layout(width="460px"))
        self.lat = w.FloatText(value=lat, description="camera lat", layout=w.Layout(width="200px"))
        self.lon = w.FloatText(value=lon, description="camera lon", layout=w.Layout(width="200px"))
        self.heading = w.FloatText(value=heading or 0.0, description="heading °", layout=w.Layout(width="200px"))
        self.start = w.Text(value=start, description="clock at start", placeholder="2026-10-20T14:05:00-07:00",
                            layout=w.Layout(width="360px"))
        self.offset = w.FloatText(value=clock_offset_s, description="clock offset s", layout=w.Layout(width="220px"),
                                  tooltip="seconds to add to the footage clock (a DVR running 90 s slow: +90)")
        self.run_button = w.Button(description="Recognize", button_style="primary", icon="play")
        self.cancel_button = w.Button(description="Cancel", icon="stop", disabled=True)
        self.progress = w.Output()
        self.status = Status()
        self.rows = w.VBox()
        self.save_button = w.Button(description="Save reviewed reads", button_style="success", icon="save",
                                    disabled=True)
        self.result_box = w.HTML()
        self.upload.observe(self._uploaded, "value")
        self.run_button.on_click(lambda _: self.run(background=True))
        self.cancel_button.on_click(lambda _: self._cancel.set())
        self.save_button.on_click(lambda _: self.save())
        super().__init__([w.HBox([self.upload, self.file]), w.HBox([self.lat, self.lon, self.heading]),
                          w.HBox([self.start, self.offset]), w.HBox([self.run_button, self.cancel_button]),
                          self.progress, self.status, self.rows, self.save_button, self.result_box])
        self.add_class("workbench-footage-review")

    def _files(self) -> list[str]:
        folder = Path(self.settings.upload_dir)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if p.suffix.lower() in (*VIDEO_SUFFIXES, *IMAGE_SUFFIXES) and not p.name.startswith("."))

    def _uploaded(self, change) -> None:
        for item in change["new"]:
            try:
                stored = store_upload(Path(self.settings.upload_dir), item["name"], bytes(item["content"]))
            except WorkbenchError as exc:
                self.status.error(exc)
                return
            self.file.options = self._files()
            self.file.value = stored.name
            self.status.ok(f"{stored.name} is in the upload folder")

    def camera(self) -> CameraPlacement:
        try:
            start = datetime.fromisoformat(self.start.value)
        except ValueError:
            raise FootageError(f"clock at start {self.start.value!r} is not like 2026-10-20T14:05:00-07:00") from None
        return CameraPlacement(self.lat.value, self.lon.value, start, self.heading.value or None, self.offset.value,
                               self.file.value or "")

    def run(self, background: bool = False) -> None:
        """Recognize the chosen footage; ``background`` keeps the notebook responsive (the button does)."""
        if not self.status.case_open(self.gate):
            return
        if background:
            self._worker = threading.Thread(target=self._run, daemon=True)
            self._worker.start()
        else:
            self._run()

    def wait(self) -> None:
        if self._worker is not None:
            self._worker.join()

    def _run(self) -> None:
        from ..recognition.pipeline import recognize

        self._cancel.clear()
        self.cancel_button.disabled = False
        self.progress.clear_output()
        with running(self.status, self.run_button, "running plate detection and reading..."):
            if not self.file.value:
                raise FootageError("choose or upload a footage file first")
            camera = self.camera()
            with self.progress:
                self.reads = recognize(self.file.value, camera, settings=self.settings, cancel=self._cancel)
            self._show_reads()
        self.cancel_button.disabled = True

    def _show_reads(self) -> None:
        reads = self.reads
        self.rows.children = [_ReadRow(i, str(reads.text[i]), reads.crops[i], float(reads.confidence[i]),
                                       int(reads.looks[i]), reads.char_confidence[i], reads.alternatives[i])
                              for i in range(len(reads))]
        note = " (cancelled: only the part before the stop was read)" if reads.cancelled else ""
        timing = reads.timings
        self.status.ok(f"{len(reads)} plates found in {timing.get('frames', 0)} frames, "
                       f"{timing.get('wall_s', 0):.1f} s{note}. Check each against its crop, then save.")
        self.save_button.disabled = not len(reads)

    def decide(self, index: int, decision: str, plate: str | None = None) -> None:
        """Set a read's decision from code ('confirm' or 'reject'; ``plate`` corrects the text)."""
        row = self.rows.children[index]
        if plate is not None:
            row.plate.value = plate
        row.decision.value = decision

    def save(self):
        """Save confirmed and corrected reads under the open case (one audited transaction)."""
        with running(self.status, self.save_button, "saving reviewed reads..."):
            review = Review(self.reads)
            for row in self.rows.children:
                if row.decision.value == "confirm":
                    review.correct(row.index, row.plate.value)
                elif row.decision.value == "reject":
                    review.reject(row.index)
            self.saved = self.gate.access.save_footage_reads(review)
            hits = self.saved.hits
            warning = ("" if hits.empty else
                       f'<div class="workbench-hit" style="color:#a00;font-weight:bold">Hot-list hit: '
                       f"{html.escape(hits['warning'].iloc[0])}</div>{table_html(hits)}")
            self.result_box.value = (f'<div class="workbench-saved">{len(self.saved.read_ids)} reads saved under case '
                                     f"{self.gate.access.case_number} (audit record {self.saved.audit_id}).</div>"
                                     + warning)
            self.save_button.disabled = True
        return self.saved
