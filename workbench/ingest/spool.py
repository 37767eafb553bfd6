"""The feed's disk spool: batches the database could not take, kept in arrival order until it can.

One JSON line per batch, fsynced before the sender is answered, so an answered request is either committed
or on disk. ``replayed`` records (fsynced) how many lines are in the store; replay resumes there after a
crash, and a batch that was committed just before the database went away is not stored twice (the store
knows each read's key). Batches the database refuses (a token withdrawn) move to ``refused.jsonl``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lines = self.folder / "spool.jsonl"
        self._replayed = self.folder / "replayed"
        self._refused = self.folder / "refused.jsonl"
        self._lock = threading.Lock()
        self._count = sum(1 for _ in self._lines.open()) if self._lines.exists() else 0

    def _position(self) -> tuple[int, int]:
        """(lines in the store, byte offset of the next one)."""
        try:
            lines, offset = self._replayed.read_text().split()
            return int(lines), int(offset)
        except (FileNotFoundError, ValueError):
            return 0, 0

    @property
    def pending(self) -> int:
        with self._lock:
            return self._count - self._position()[0]

    def append(self, entries: list[dict[str, Any]]) -> None:
        with self._lock, self._lines.open("a") as handle:
            for entry in entries:
                handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            self._count += len(entries)

    def next_entry(self) -> dict[str, Any] | None:
        with self._lock:
            lines, offset = self._position()
            if lines >= self._count:
                return None
            with self._lines.open("rb") as handle:
                handle.seek(offset)
                line = handle.readline()
            self._next_offset = offset + len(line)
            return json.loads(line)

    def mark_replayed(self) -> None:
        """The entry :meth:`next_entry` gave is in the store; when all are, the spool starts empty again."""
        with self._lock:
            lines = self._position()[0] + 1
            if lines >= self._count:
                self._lines.unlink(missing_ok=True)
                self._replayed.unlink(missing_ok=True)
                self._count = 0
                return
            _write_synced(self._replayed, f"{lines} {self._next_offset}")

    def refuse(self, entry: dict[str, Any], reason: str) -> None:
        with self._refused.open("a") as handle:
            handle.write(json.dumps({**entry, "refused": reason}, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.mark_replayed()


def _write_synced(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    with temporary.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
