"""Recognition accuracy on real plate photos and speed on 2 CPU cores, as one JSON line.

Usage: python benchmarks/recognition.py [--dataset ../shared/datasets/plates-dev] [--clip-seconds 60]

- Accuracy on the validation halves of plates-crops (US and BR plate crops, never trained on), with each
  region's reading rules and with each rule switched (the model card's rule effects).
- Accuracy on the labelled photos (US and EU separately), on the held-out half ('val', never used in
  training) and, for reference, on all photos: detection recall at IoU >= 0.3 and >= 0.5 (ground-truth
  boxes are tight, detector boxes include the frame), exact plate, within one character, and exact
  given the true box; the fine-tuned plate recognizer beside stock EasyOCR english_g2 in the same run.
- Detector recall at image sizes 640, 960 and 1280 (how the default was chosen).
- Speed: ms per photo for detection, ms per crop for reading; a 60 s 1280x720 clip at the default
  sampling: wall time against real time, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from workbench.recognition.dataset import load_labelled_photos
from workbench.recognition.evaluate import evaluate
from workbench.recognition.ocr import PlateReader
from workbench.recognition.pipeline import Recognizer
from workbench.sample.footage import write_clip
from workbench.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def accuracy(recognizer: Recognizer, reader: PlateReader, photos) -> dict:
    result = evaluate(photos, recognizer, reader=reader, progress=False)
    figures = {}
    for region in ("us", "eu"):
        for split in ("val", "all"):
            chosen = [p.path.name for p in photos if p.region == region and (split == "all" or p.split == split)]
            part = result.per_photo[result.per_photo["file"].isin(chosen)]
            figures[f"{region}_{split}"] = {
                "photos": len(part), "detected_iou30": round(float(part["iou"].ge(0.3).mean()), 3),
                "detected_iou50": round(float(part["iou"].ge(0.5).mean()), 3),
                "exact": round(float(part["exact"].mean()), 3), "within_one": round(float(part["within_one"].mean()), 3),
                "exact_given_true_box": round(float(part["exact_true_box"].mean()), 3)}
    figures["detect_ms_median"] = round(statistics.median(result.per_photo["detect_ms"]), 1)
    read = result.per_photo.loc[result.per_photo["read_ms"] > 0, "read_ms"]
    figures["read_ms_per_crop_median"] = round(statistics.median(read), 1) if len(read) else None
    return figures


def crops_accuracy(reader: PlateReader, crops_dataset: Path) -> dict:
    """The validation halves of plates-crops (US, BR; never trained on), cut as training cut them, read with
    the region's rules from plate_formats.toml and with each rule switched the other way (its effect)."""
    import dataclasses

    from workbench.recognition.dataset import cut_box, training_crops
    from workbench.recognition.text import edit_distance, fold_us

    figures = {}
    if not crops_dataset.is_dir():
        return {"skipped": f"{crops_dataset} not found"}
    for region in ("us", "br"):
        photos = [p for p in load_labelled_photos(crops_dataset / region) if p.split == "val"]
        crops = training_crops(photos)
        started = time.perf_counter()
        probabilities = reader.probabilities([cut_box(crop, box) for crop, box, _ in crops])
        ms = (time.perf_counter() - started) * 1000 / max(1, len(crops))
        rules = reader.rules[region]
        variants = {"rules": rules,
                    "formats_" + ("off" if rules.formats else "on"): dataclasses.replace(
                        rules, formats=() if rules.formats else reader.rules["us" if region == "us" else "br"].formats),
                    "trim_to_7": dataclasses.replace(rules, max_length=7),
                    "trim_to_8": dataclasses.replace(rules, max_length=8)}
        for name, chosen in variants.items():
            exact = near = 0
            for probs, (_, _, label) in zip(probabilities, crops, strict=True):
                text = reader.decode(probs, region, chosen).text
                truth = fold_us(label) if chosen.fold_o_to_zero else label
                exact += text == truth
                near += edit_distance(text, truth) <= 1
            figures[f"{region}_{name}"] = {"plates": len(crops), "exact": round(exact / len(crops), 3),
                                           "within_one": round(near / len(crops), 3)}
        figures[f"{region}_read_ms_per_crop"] = round(ms, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=ROOT.parent / "shared" / "datasets" / "plates-dev")
    parser.add_argument("--crops", type=Path, default=ROOT.parent / "shared" / "datasets" / "plates-crops")
    parser.add_argument("--clip-seconds", type=float, default=60.0)
    args = parser.parse_args()
    photos = load_labelled_photos(args.dataset)
    settings = load_settings()
    recognizer = Recognizer(settings)
    stock = PlateReader(settings, stock=True)
    crops = crops_accuracy(recognizer.reader, args.crops)
    fine_tuned = accuracy(recognizer, recognizer.reader, photos)
    baseline = accuracy(recognizer, stock, photos)
    sizes = {}
    us = [p for p in photos if p.region == "us"]
    for size in (640, 960, 1280):
        sized = Recognizer(settings, reader=recognizer.reader, image_size=size, photo_image_size=size)
        run = evaluate(us, sized, progress=False).per_photo
        sizes[str(size)] = {"us_detected_iou30": round(float(run["iou"].ge(0.3).mean()), 3),
                            "detect_ms_median": round(statistics.median(run["detect_ms"]), 1)}
    with tempfile.TemporaryDirectory() as folder:
        clip = write_clip(Path(folder) / "clip.mp4", ["7WXB124", "4MBX209", "8CPL402", "5HNT773", "6TRK551",
                                                      "3LGH880"] * 2, seconds=args.clip_seconds)
        clip_recognizer = Recognizer(load_settings({"upload_dir": folder}), reader=recognizer.reader)
        reads = clip_recognizer.run(clip.name, progress=False)
    timings = reads.timings
    print(json.dumps({
        "benchmark": "recognition", "dataset": args.dataset.name, "crops_val": crops, "fine_tuned": fine_tuned,
        "stock_english_g2": baseline,
        "detector_image_size": sizes, "default_image_size": {"video": recognizer.image_size, "photos": recognizer.photo_image_size},
        "clip": {"seconds": args.clip_seconds, "resolution": "1280x720", "frames_per_second_sampled":
                 float(settings.frames_per_second), "frames": timings["frames"], "wall_s": round(timings["wall_s"], 1),
                 "real_time_factor": round(args.clip_seconds / timings["wall_s"], 2), "plates_read": len(reads),
                 "plates_expected": 12},
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "targets": {"us_exact": 0.90, "us_within_one": 0.97, "br_exact": 0.85, "read_ms_per_crop": 30,
                    "clip_real_time_factor": 1.0},
        "machine": f"{platform.machine()} {os.cpu_count()} cores"}))


if __name__ == "__main__":
    main()
