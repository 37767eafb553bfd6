"""Footage recognition: YOLO plate detection, ByteTrack tracking, EasyOCR plate reading, per-character vote."""
