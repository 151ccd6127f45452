#!/usr/bin/python3
"""Immich's own CLIP image transform, written out with PIL + numpy only: the oracle of `--convention immich`.

What it reproduces (immich-app/immich, machine-learning/immich_ml, the newest version stored for this work:
models/clip/visual.py at commit 0538dd7aedbf3c1664171666c5a0b69129600a93, models/transforms.py at 3aea3baa0d8d):
  decode_pil      Image.open(bytes); load(); convert("RGB") unless already RGB  -- RGB before resizing
  _resize         preprocess_cfg["resize_mode"] (default "shortest"):
                    squash   image.resize((size, size), resample=interpolation)
                    shortest resize_pil: short side -> size, long side int((long / short) * size);
                             crop_pil: left = int(w / 2 - size / 2), upper likewise
                    other    raises ValueError
  to_numpy        np.asarray(rgb, float32) / 255.0
  normalize       img *= 1.0 / std; img -= mean / std   (mean, std: float32 arrays of the config's values)
Older Immich versions (e.g. visual.py at 8ed38849) ignored "interpolation" (always bicubic) and "resize_mode"
(always shortest + crop); this script follows the newer one, as clip-bench does.

Usage:
  immich-transform.py IMAGE PREPROCESS_CFG.json OUT.f32   one image -> float32 CHW little-endian, no header
  immich-transform.py --write-goldens DIR                 the tiny images and tensors of tests/goldens/immich
"""
import json
import sys
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

RESAMPLING = {r.name.lower(): r for r in Image.Resampling}


def decode_pil(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image


def resize_pil(img: Image.Image, size: int, resample: Image.Resampling) -> Image.Image:
    if img.width < img.height:
        return img.resize((size, int((img.height / img.width) * size)), resample=resample)
    return img.resize((int((img.width / img.height) * size), size), resample=resample)


def crop_pil(img: Image.Image, size: int) -> Image.Image:
    left = int((img.size[0] / 2) - (size / 2))
    upper = int((img.size[1] / 2) - (size / 2))
    return img.crop((left, upper, left + size, upper + size))


def transform(data: bytes, cfg: dict) -> np.ndarray:
    size = cfg["size"][0] if isinstance(cfg["size"], list) else cfg["size"]
    resampling = RESAMPLING[cfg["interpolation"].lower()]
    mean = np.array(cfg["mean"], dtype=np.float32)
    std = np.array(cfg["std"], dtype=np.float32)
    image = decode_pil(data)
    mode = cfg.get("resize_mode", "shortest")
    if mode == "squash":
        image = image.resize((size, size), resample=resampling)
    elif mode == "shortest":
        image = crop_pil(resize_pil(image, size, resampling), size)
    else:
        raise ValueError(f"Unsupported resize_mode {mode!r}")
    img = np.asarray(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.float32) / 255.0
    img *= 1.0 / std
    img -= mean / std
    return img.transpose(2, 0, 1)


# The golden configs: an open_clip CLIP config (shortest + crop, bicubic, OpenAI mean/std) and a SigLIP-style one
# (squash, bilinear, mean = std = 0.5), at a tiny size so that the tensors stay small.
CONFIGS = {
    "clip": {"size": [28, 28], "mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711], "interpolation": "bicubic", "resize_mode": "shortest"},
    "siglip": {"size": [28, 28], "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bilinear", "resize_mode": "squash"},
}


def write_images(out: Path) -> dict:
    """Tiny images whose sizes make int() and torchvision's rules disagree at size 28 (see the README)."""
    rng = np.random.default_rng(16)
    yy, xx = np.mgrid[0:64, 0:64]
    smooth = lambda w, h, c: ((np.stack([xx * (3 + k) + yy * (5 - k) for k in range(c)], -1) * 2 + rng.integers(0, 40, (64, 64, c)))[:h, :w] % 256).astype(np.uint8)
    images = {}
    rgb = Image.fromarray(smooth(62, 56, 3), "RGB")  # long side 31 at 28: crop offset int(1.5) = 1, round(1.5) = 2
    rgb.save(out / "rgb_62x56.png")
    images["rgb_62x56.png"] = "RGB"
    pal = Image.fromarray(smooth(14, 61, 3), "RGB").quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pal.save(out / "p_14x61.png")  # int((61/14)*28) = 121 but int(28*61/14) = 122
    images["p_14x61.png"] = "P"
    la = Image.fromarray(smooth(45, 33, 2), "LA")  # long side int((45/33)*28) = 38
    la.save(out / "la_45x33.png")
    images["la_45x33.png"] = "LA"
    cmyk = Image.fromarray(smooth(40, 50, 4), "CMYK")  # long side 35: offset int(3.5) = 3, round(3.5) = 4
    cmyk.save(out / "cmyk_40x50.tif")
    images["cmyk_40x50.tif"] = "CMYK"
    return images


def write_goldens(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    images = write_images(out)
    manifest = {"script": "scripts/immich-transform.py --write-goldens tests/goldens/immich", "pillow": Image.__version__, "numpy": np.__version__, "configs": {}, "images": {}}
    for name, cfg in CONFIGS.items():
        (out / f"preprocess_cfg.{name}.json").write_text(json.dumps(cfg, indent=2) + "\n")
        manifest["configs"][name] = f"preprocess_cfg.{name}.json"
    for image, mode in images.items():
        with Image.open(out / image) as im:
            assert im.mode == mode, (image, im.mode)
            size = im.size
        manifest["images"][image] = {"mode": mode, "size_wh": list(size), "tensors": {}}
        for name, cfg in CONFIGS.items():
            tensor = transform((out / image).read_bytes(), cfg)
            f32 = f"{image}.{name}.f32"
            tensor.astype("<f4").tofile(out / f32)
            manifest["images"][image]["tensors"][name] = f32
    (out / "goldens.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write-goldens"]:
        write_goldens(Path(sys.argv[2]))
    else:
        image, cfg, out = sys.argv[1:4]
        transform(Path(image).read_bytes(), json.loads(Path(cfg).read_text())).astype("<f4").tofile(out)
