"""EasyOCR custom network for the workbench's plate recognizer: EasyOCR's own VGG + BiLSTM + CTC model."""
from easyocr.model.vgg_model import Model  # noqa: F401
