"""``workbench recognize``: run the pipeline on footage without the database (triage), evaluate on labelled
photos, prepare training crops, train the plate recognizer."""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from datetime import datetime
from pathlib import Path

from ..errors import FootageError
from ..settings import load_settings

USAGE = """usage:
  workbench recognize FILE --lat LAT --lon LON --start ISO_TIME [--gps track.gpx|.srt] [--heading DEG] [--clock-offset S]
                      [--fps N] [--out reads.csv] [--stock]
  workbench recognize evaluate IMAGES [--labels labels.csv] [--stock] [--split val] [--by condition]
  workbench recognize prepare-crops DATASET --out crops.pkl [--true-boxes]
  workbench recognize train --out DIR [--real-crops crops.pkl] [--start-from plate_recognizer.pth] [--minutes 45] ...
"""


def _run(argv: list[str]) -> int:
    from .ocr import PlateReader
    from .pipeline import Recognizer, footage_track
    from .results import CameraPlacement
    from .sources import probe, resolve_upload

    parser = argparse.ArgumentParser(prog="workbench recognize", usage=USAGE)
    parser.add_argument("file", help="video, image or folder of images, inside WORKBENCH_UPLOAD_DIR")
    parser.add_argument("--lat", type=float, help="camera latitude (optional with a GPS sidecar)")
    parser.add_argument("--lon", type=float, help="camera longitude (optional with a GPS sidecar)")
    parser.add_argument("--gps", type=Path, help="GPX or SRT track (default: a .gpx/.srt of the same name beside a video)")
    parser.add_argument("--start", required=True, help="footage clock at its first frame, with time zone")
    parser.add_argument("--heading", type=float)
    parser.add_argument("--clock-offset", type=float, default=0.0, help="seconds to add to the footage clock")
    parser.add_argument("--fps", type=float, help="frames sampled per second (default WORKBENCH_FRAMES_PER_SECOND)")
    parser.add_argument("--out", type=Path, help="write the reads as CSV (crops beside it as JPEG)")
    parser.add_argument("--stock", action="store_true", help="read with stock EasyOCR english_g2 (comparison)")
    args = parser.parse_args(argv)
    try:
        start = datetime.fromisoformat(args.start)
    except ValueError:
        raise FootageError(f"--start {args.start!r} is not an ISO date and time (e.g. 2026-11-01T14:05:00-07:00)") from None
    settings = load_settings()
    resolved = resolve_upload(args.file, Path(settings.upload_dir))
    info = probe(resolved)  # bad footage fails before models load
    track = footage_track(resolved, info.kind, args.gps, Path(settings.upload_dir))
    if args.lat is None or args.lon is None:
        if track is None:
            raise FootageError("give --lat and --lon (or a GPS sidecar: --gps track.gpx, or a .gpx/.srt beside the video)")
        args.lat, args.lon = float(track.lat[0]), float(track.lon[0])
    camera = CameraPlacement(args.lat, args.lon, start, args.heading, args.clock_offset, Path(args.file).name)
    recognizer = Recognizer(settings, reader=PlateReader(settings, stock=args.stock))
    reads = recognizer.run(args.file, camera, frames_per_second=args.fps, gps=track)
    if track is not None:
        print(f"positions from {track.source} ({len(track)} fixes)", file=sys.stderr)
    frame = reads.to_dataframe()
    if args.out:
        import cv2

        args.out.parent.mkdir(parents=True, exist_ok=True)
        crops = []
        for index, crop in enumerate(reads.crops):
            name = f"{args.out.stem}_{index:03d}_{reads.text[index]}.jpg"
            cv2.imwrite(str(args.out.parent / name), crop)
            crops.append(name)
        frame.assign(crop=crops).to_csv(args.out, index=False)
        print(f"{len(frame)} plates -> {args.out}")
    else:
        print(frame[["plate", "confidence", "looks", "read_at", "alternatives"]].to_string(index=False))
    timings = reads.timings
    print(f"{timings.get('frames', 0)} frames in {timings.get('wall_s', 0):.1f} s "
          f"for {timings.get('footage_s', 0):.1f} s of footage", file=sys.stderr)
    return 0


def _evaluate(argv: list[str]) -> int:
    from .evaluate import evaluate, read_labels
    from .ocr import PlateReader
    from .pipeline import Recognizer

    parser = argparse.ArgumentParser(prog="workbench recognize evaluate", usage=USAGE)
    parser.add_argument("images", type=Path, help="folder of labelled photos (or one image with --labels)")
    parser.add_argument("--labels", type=Path, help="CSV: file, plate[, x, y, width, height][, condition][, region]")
    parser.add_argument("--stock", action="store_true", help="read with stock EasyOCR english_g2")
    parser.add_argument("--split", choices=["train", "val", "all"], default="all",
                        help="only the photos of this fixed split (the shipped model trained on 'train')")
    parser.add_argument("--by", default="condition", help="break down by this label column (condition, region)")
    parser.add_argument("--out", type=Path, help="per-photo results as CSV")
    args = parser.parse_args(argv)
    photos = read_labels(args.labels, args.images)
    if args.split != "all":
        photos = [p for p in photos if p.split == args.split]
    if not photos:
        raise FootageError(f"no labelled photos found in {args.images}")
    settings = load_settings()
    recognizer = Recognizer(settings, reader=PlateReader(settings, stock=args.stock))
    result = evaluate(photos, recognizer)
    if args.out:
        result.per_photo.to_csv(args.out, index=False)
    print(json.dumps(result.summary(by=args.by), indent=2))
    return 0


def _prepare_crops(argv: list[str]) -> int:
    from .dataset import load_labelled_photos, training_crops

    parser = argparse.ArgumentParser(prog="workbench recognize prepare-crops", usage=USAGE)
    parser.add_argument("dataset", type=Path, nargs="+",
                        help="folders of labelled photos or plate crops (a .txt beside each)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--true-boxes", action="store_true",
                        help="cut around the labelled boxes instead of the detector's (as the pipeline does)")
    args = parser.parse_args(argv)
    photos = [photo for folder in args.dataset for photo in load_labelled_photos(folder)]
    if not photos:
        raise FootageError(f"no labelled photos in {', '.join(map(str, args.dataset))}")
    # Crops that are the plate itself have no detector to run: their labelled box is the image.
    crops = [p for p in photos if p.whole_image]
    photos = [p for p in photos if not p.whole_image]
    crop_train = training_crops([p for p in crops if p.split == "train"])
    crop_val = training_crops([p for p in crops if p.split == "val"])
    train = [p for p in photos if p.split == "train"]
    val = [p for p in photos if p.split == "val"]
    if args.true_boxes or not photos:
        train_crops, val_crops = training_crops(train), training_crops(val)
    else:
        from .evaluate import detector_cut_boxes
        from .pipeline import PHOTO_IMAGE_SIZE, Recognizer

        recognizer = Recognizer(load_settings())
        # Training sees the framing of both the photo size and the video size; validation, the photo size's.
        train_crops = [crop for size in (PHOTO_IMAGE_SIZE, recognizer.image_size)
                       for crop in training_crops(train, cut_boxes=detector_cut_boxes(train, recognizer, size))]
        val_crops = training_crops(val, cut_boxes=detector_cut_boxes(val, recognizer, PHOTO_IMAGE_SIZE))
    train_crops, val_crops = train_crops + crop_train, val_crops + crop_val
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(pickle.dumps((train_crops, val_crops)))
    print(f"{len(train_crops)} training crops ({len(train)} photos, {len(crop_train)} plate crops) and "
          f"{len(val_crops)} validation crops -> {args.out} (keep it out of the repository)")
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if argv[0] == "evaluate":
        return _evaluate(argv[1:])
    if argv[0] == "prepare-crops":
        return _prepare_crops(argv[1:])
    if argv[0] == "train":
        from .train import main as train_main

        train_main(argv[1:])
        return 0
    return _run(argv)
