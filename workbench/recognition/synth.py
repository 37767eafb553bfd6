"""Synthetic licence plates for training the plate recognizer, and for making test footage.

US plates (state name band, slogan, stickers, bolts, dealer frames, stacked small characters, dashes
and spaces, many colours) and European plates (blue country band), rendered with Debian fonts, then
degraded like real ALPR crops: perspective, blur, shrink to 18-90 px high, noise, JPEG, night.
Only numpy, OpenCV and Pillow: it also runs where the rest of the workbench is not installed.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .text import fold_us

CHARACTERS = string.digits + string.ascii_uppercase
LETTERS = string.ascii_uppercase
STATES = ["CALIFORNIA", "NEVADA", "ARIZONA", "OREGON", "TEXAS", "FLORIDA", "NEW YORK", "ILLINOIS", "WASHINGTON",
          "COLORADO", "GEORGIA", "OHIO", "MICHIGAN", "VIRGINIA", "UTAH", "NEW JERSEY", "PENNSYLVANIA", "IDAHO",
          "MARYLAND", "MASSACHUSETTS", "NEW MEXICO", "KENTUCKY", "MINNESOTA", "MONTANA"]
SLOGANS = ["dmv.ca.gov", "THE SUNSHINE STATE", "EMPIRE STATE", "LAND OF LINCOLN", "THE LONE STAR STATE",
           "GRAND CANYON STATE", "SILVER STATE", "EVERGREEN STATE", "PEACH STATE", "GARDEN STATE", "BIRTHPLACE OF AVIATION",
           "GREAT LAKES", "VIRGINIA IS FOR LOVERS", "LIFE ELEVATED", "LAND OF ENCHANTMENT", "10,000 LAKES", ""]
DEALERS = ["TOYOTA OF LONG BEACH", "BEACH CITIES HONDA", "CERRITOS AUTO", "SIGNAL HILL FORD", "HARBOR CHEVROLET", ""]
EU_COUNTRIES = ["D", "F", "NL", "B", "I", "E", "PL", "CZ", "A", "P", "L", "SK", "LT", "H"]
FONT_NAMES = ["NimbusSansNarrow-Bold", "LiberationSansNarrow-Bold", "DejaVuSansCondensed-Bold", "DejaVuSans-Bold",
              "NimbusSans-Bold", "LiberationSans-Bold", "DejaVuSansMono-Bold"]
FONT_DIRS = [Path("/usr/share/fonts")]


def find_fonts(extra_dirs: list[Path] | None = None) -> list[Path]:
    """Bold sans fonts for plate characters, condensed first (plates use narrow faces)."""
    found: dict[str, Path] = {}
    for folder in [*(extra_dirs or []), *FONT_DIRS]:
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.suffix.lower() in (".ttf", ".otf", ".t1") and path.stem in FONT_NAMES:
                    found.setdefault(path.stem, path)
    fonts = [found[name] for name in FONT_NAMES if name in found]
    if not fonts:
        raise FileNotFoundError("no plate font found; install Debian's fonts-dejavu-core (and fonts-urw-base35)")
    return fonts


@dataclass(frozen=True)
class Sample:
    image: np.ndarray  # grayscale uint8, height x width, the plate crop as a detector would give it
    text: str  # characters of the plate, A-Z0-9 only


def random_us_text(rng: np.random.Generator) -> tuple[str, str]:
    """(text as printed with separators, plate characters)."""
    style = rng.integers(0, 6)
    digits = string.digits
    if style == 0:  # California: 7ABC123
        chars = str(rng.integers(1, 10)) + "".join(rng.choice(list(LETTERS), 3)) + "".join(rng.choice(list(digits), 3))
        printed = chars
    elif style == 1:  # ABC-1234 / ABC 1234
        chars = "".join(rng.choice(list(LETTERS), 3)) + "".join(rng.choice(list(digits), 4))
        printed = chars[:3] + rng.choice(["-", " ", "·", ""]) + chars[3:]
    elif style == 2:  # 123-ABC
        chars = "".join(rng.choice(list(digits), 3)) + "".join(rng.choice(list(LETTERS), 3))
        printed = chars[:3] + rng.choice(["-", " ", ""]) + chars[3:]
    elif style == 3:  # ABC1234 mixed
        n = int(rng.integers(5, 8))
        chars = "".join(rng.choice(list(CHARACTERS), n))
        printed = chars
    elif style == 4:  # 1AB 234
        chars = str(rng.integers(1, 10)) + "".join(rng.choice(list(LETTERS), 2)) + "".join(rng.choice(list(digits), 3))
        printed = chars[:3] + " " + chars[3:]
    else:  # vanity, 2-7 letters
        n = int(rng.integers(3, 8))
        chars = "".join(rng.choice(list(LETTERS + digits[:3]), n))
        printed = chars
    return printed, chars


def _font(fonts: list[Path], size: int, rng: np.random.Generator | None = None, index: int | None = None):
    path = fonts[index if index is not None else int(rng.integers(0, len(fonts)))]
    return ImageFont.truetype(str(path), size)


def _fit_text(draw, text, font_path_index, fonts, box_w, box_h):
    size = box_h
    while size > 6:
        font = _font(fonts, size, index=font_path_index)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= box_w and bottom - top <= box_h:
            return font, (left, top, right, bottom)
        size -= 2
    font = _font(fonts, 6, index=font_path_index)
    return font, draw.textbbox((0, 0), text, font=font)


def render_us_plate(rng: np.random.Generator, fonts: list[Path], text: str | None = None,
                    clean: bool = False) -> tuple[np.ndarray, str]:
    """A colour US plate (RGB uint8, about 2:1) and its characters; ``text`` forces what it says;
    ``clean`` draws a plain California-style plate (white, blue characters, no stickers or frame)."""
    if clean:
        return _clean_plate(fonts, text or random_us_text(rng)[0])
    width, height = 480, 240
    palette = [((245, 245, 245), (20, 30, 120)), ((250, 250, 250), (10, 10, 10)), ((250, 235, 120), (20, 20, 60)),
               ((225, 235, 250), (150, 20, 20)), ((240, 240, 230), (20, 90, 40)), ((30, 40, 90), (250, 250, 250)),
               ((250, 250, 250), (40, 60, 150))]
    background, ink = palette[int(rng.integers(0, len(palette)))]
    plate = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(plate)
    if rng.random() < 0.4:  # gradient or scenic background
        top = np.array(background, float)
        bottom = np.clip(top + rng.normal(0, 40, 3), 0, 255)
        ramp = np.linspace(0, 1, height)[:, None, None]
        plate = Image.fromarray((top * (1 - ramp) + bottom * ramp).repeat(width, axis=1).astype(np.uint8))
        draw = ImageDraw.Draw(plate)
    printed, chars = random_us_text(rng) if text is None else (text, "".join(c for c in text if c.isalnum()))
    font_index = int(rng.integers(0, len(fonts)))
    main_top, main_bottom = 62 + int(rng.integers(-8, 8)), 186 + int(rng.integers(-8, 8))
    font, bbox = _fit_text(draw, printed, font_index, fonts, width - 70 - int(rng.integers(0, 60)), main_bottom - main_top)
    text_w, text_h = bbox[2] - bbox[0], bbox[3] - bbox[1]
    x = (width - text_w) / 2 - bbox[0] + rng.integers(-10, 10)
    y = main_top + (main_bottom - main_top - text_h) / 2 - bbox[1]
    if rng.random() < 0.15:  # stacked small characters on the left (e.g. "DV", "DP")
        stacked = "".join(rng.choice(list(LETTERS), 2))
        small = _font(fonts, 34, index=font_index)
        draw.text((22, main_top + 10), stacked[0], font=small, fill=ink)
        draw.text((22, main_top + 60), stacked[1], font=small, fill=ink)
        x = max(x, 60 - bbox[0])
    draw.text((x, y), printed, font=font, fill=ink)
    state = STATES[int(rng.integers(0, len(STATES)))]
    band_font, band_box = _fit_text(draw, state, int(rng.integers(0, len(fonts))), fonts, 300, 44)
    state_ink = tuple(int(v) for v in rng.choice([(160, 20, 20), (20, 30, 120), ink], 1)[0])
    draw.text(((width - (band_box[2] - band_box[0])) / 2 - band_box[0], 10 - band_box[1]), state,
              font=band_font, fill=state_ink)
    slogan = SLOGANS[int(rng.integers(0, len(SLOGANS)))]
    if slogan:
        slogan_font, slogan_box = _fit_text(draw, slogan, int(rng.integers(0, len(fonts))), fonts, 320, 26)
        draw.text(((width - (slogan_box[2] - slogan_box[0])) / 2 - slogan_box[0], 202 - slogan_box[1]), slogan,
                  font=slogan_font, fill=ink)
    for corner in rng.choice(4, int(rng.integers(0, 3)), replace=False):  # registration stickers
        sx = 14 if corner in (0, 2) else width - 74
        sy = 14 if corner in (0, 1) else height - 50
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.rectangle((sx, sy, sx + 60, sy + 36), fill=colour)
        draw.text((sx + 6, sy + 4), str(rng.integers(20, 30)), font=_font(fonts, 22, index=font_index), fill=(0, 0, 0))
    if rng.random() < 0.7:  # bolts
        for bx in (110, width - 110):
            draw.ellipse((bx - 9, 30, bx + 9, 48), fill=(170, 170, 170), outline=(90, 90, 90))
    if rng.random() < 0.5:  # dealer frame
        frame_colour = tuple(int(v) for v in rng.choice([(15, 15, 15), (180, 180, 185), (120, 20, 20)], 1)[0])
        thickness = int(rng.integers(8, 22))
        draw.rectangle((0, 0, width - 1, height - 1), outline=frame_colour, width=thickness)
        dealer = DEALERS[int(rng.integers(0, len(DEALERS)))]
        if dealer:
            bottom_band = int(rng.integers(18, 30))
            draw.rectangle((0, height - bottom_band, width, height), fill=frame_colour)
            dealer_font, _ = _fit_text(draw, dealer, 0, fonts, 300, bottom_band - 4)
            draw.text((90, height - bottom_band + 1), dealer, font=dealer_font,
                      fill=(255, 255, 255) if sum(frame_colour) < 300 else (0, 0, 0))
    return np.asarray(plate), chars


def _clean_plate(fonts: list[Path], text: str) -> tuple[np.ndarray, str]:
    width, height = 480, 240
    plate = Image.new("RGB", (width, height), (245, 245, 245))
    draw = ImageDraw.Draw(plate)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(60, 60, 60), width=6)
    font, bbox = _fit_text(draw, text, 0, fonts, width - 80, 120)
    draw.text(((width - (bbox[2] - bbox[0])) / 2 - bbox[0], 68 + (120 - (bbox[3] - bbox[1])) / 2 - bbox[1]), text,
              font=font, fill=(20, 30, 120))
    band, band_box = _fit_text(draw, "California", 1 % len(fonts), fonts, 260, 44)
    draw.text(((width - (band_box[2] - band_box[0])) / 2 - band_box[0], 12 - band_box[1]), "California", font=band,
              fill=(170, 20, 20))
    return np.asarray(plate), "".join(c for c in text if c.isalnum())


def render_eu_plate(rng: np.random.Generator, fonts: list[Path]) -> tuple[np.ndarray, str]:
    """A European plate (RGB, about 4.7:1, blue country band) and its characters."""
    width, height = 520, 112
    background = (250, 250, 250) if rng.random() < 0.8 else (250, 205, 40)
    plate = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(plate)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(10, 10, 10), width=4)
    draw.rectangle((4, 4, 52, height - 5), fill=(20, 50, 160))
    country = EU_COUNTRIES[int(rng.integers(0, len(EU_COUNTRIES)))]
    draw.text((14, 62), country, font=_font(fonts, 28, index=0), fill=(250, 250, 250))
    for k in range(12):  # ring of stars
        angle = 2 * np.pi * k / 12
        cx, cy = 28 + 13 * np.cos(angle), 32 + 13 * np.sin(angle)
        draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=(250, 210, 0))
    groups = [int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 5))]
    kinds = rng.choice(["L", "D", "LD"], 3)
    parts = []
    for size, kind in zip(groups, kinds, strict=True):
        pool = LETTERS if kind == "L" else string.digits if kind == "D" else CHARACTERS
        parts.append("".join(rng.choice(list(pool), size)))
    chars = "".join(parts)
    printed = rng.choice([" ", "-", " · "]).join(parts)
    font, bbox = _fit_text(draw, printed, int(rng.integers(0, len(fonts))), fonts, width - 90, height - 22)
    x = 60 + (width - 60 - (bbox[2] - bbox[0])) / 2 - bbox[0]
    y = (height - (bbox[3] - bbox[1])) / 2 - bbox[1]
    draw.text((x, y), printed, font=font, fill=(10, 10, 10))
    return np.asarray(plate), chars


def degrade(rng: np.random.Generator, plate_rgb: np.ndarray, margin: float = 0.12) -> np.ndarray:
    """The plate as an ALPR camera crops it: on a car, warped, blurred, small, noisy, compressed, grayscale."""
    h, w = plate_rgb.shape[:2]
    pad_y, pad_x = int(h * (margin + 0.25)), int(w * (margin + 0.15))
    car = rng.integers(20, 230)
    canvas = np.full((h + 2 * pad_y, w + 2 * pad_x, 3), car, np.uint8)
    canvas += rng.integers(0, 25, canvas.shape, dtype=np.uint8)
    canvas[pad_y:pad_y + h, pad_x:pad_x + w] = plate_rgb
    jitter = 0.07
    src = np.float32([[pad_x, pad_y], [pad_x + w, pad_y], [pad_x + w, pad_y + h], [pad_x, pad_y + h]])
    dst = src + rng.normal(0, jitter, (4, 2)).astype(np.float32) * np.float32([w, h])
    warped = cv2.warpPerspective(canvas, cv2.getPerspectiveTransform(src, dst), (canvas.shape[1], canvas.shape[0]),
                                 borderMode=cv2.BORDER_REPLICATE)
    # Crop like a detector box: the plate plus a loose, uneven margin.
    xs, ys = dst[:, 0], dst[:, 1]
    x0 = int(max(0, xs.min() - w * rng.uniform(0.0, margin)))
    x1 = int(min(warped.shape[1], xs.max() + w * rng.uniform(0.0, margin)))
    y0 = int(max(0, ys.min() - h * rng.uniform(0.0, margin * 1.5)))
    y1 = int(min(warped.shape[0], ys.max() + h * rng.uniform(0.0, margin * 1.5)))
    crop = warped[y0:y1, x0:x1]
    if rng.random() < 0.3:  # night: dark, contrasty, tinted by IR or sodium light
        crop = np.clip(crop.astype(np.float32) * rng.uniform(0.35, 0.7) + rng.normal(0, 6, crop.shape), 0, 255)
        crop = crop.astype(np.uint8)
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    target_h = int(rng.choice([rng.integers(18, 40), rng.integers(40, 91)], p=[0.5, 0.5]))
    scale = target_h / gray.shape[0]
    small = cv2.resize(gray, (max(8, int(gray.shape[1] * scale)), target_h), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        k = int(rng.choice([3, 5]))
        small = cv2.GaussianBlur(small, (k, k), rng.uniform(0.3, 1.3)) if rng.random() < 0.6 else \
            cv2.blur(small, (k, 1))  # motion blur along the road
    noisy = np.clip(small.astype(np.float32) * rng.uniform(0.75, 1.15) + rng.uniform(-30, 25)
                    + rng.normal(0, rng.uniform(0, 10), small.shape), 0, 255).astype(np.uint8)
    quality = int(rng.integers(20, 95))
    ok, encoded = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) if ok else noisy


def synthetic_sample(rng: np.random.Generator, fonts: list[Path], eu_share: float = 0.3) -> Sample:
    if rng.random() < eu_share:
        plate, chars = render_eu_plate(rng, fonts)
    else:
        plate, chars = render_us_plate(rng, fonts)
        chars = fold_us(chars)
    return Sample(degrade(rng, plate), chars)
