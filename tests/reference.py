#!/usr/bin/python3
"""reference.py - reference results for pixpool's filters, computed with OpenCV and Pillow.

Used by tests/test_reference.c (and by hand) to check that pixpool agrees with the well-known
implementations its filters are defined against (docs/FILTERS.md, DESIGN.md section 5).

usage:
    reference.py OP INPUT.png OUTPUT.png [KEY=VALUE ...]
    reference.py --batch JOBS.txt      (one "OP INPUT OUTPUT [KEY=VALUE ...]" per line)

OP and the KEYs are pixpool's filter and parameter names (e.g. `gaussian sigma=2`), so the same
case can be given to both. Images are read and written as RGB / RGBA / gray PNGs; OpenCV's BGR
order is converted on the way in and out so that both sides compare channel for channel.

Run it with the system interpreter (/usr/bin/python3), which has cv2 (python3-opencv) and PIL
(python3-pil). Exit status 0 on success, 1 on a failed case (the message names it), 2 on usage.

References (every spatial OpenCV call uses BORDER_REPLICATE, pixpool's "edges extended"):
    grayscale        cv2.cvtColor(RGB2GRAY)
    box              cv2.blur, ksize 2r+1
    gaussian         cv2.GaussianBlur, ksize 2R+1, R = radius or ceil(3 sigma)
    unsharp          GaussianBlur as above, then the unsharp formula in numpy
    sharpen/convolve/emboss   cv2.filter2D (kernel / divisor, delta = bias)
    sobel            cv2.Sobel CV_32F dx / dy, ksize 3, cv2.magnitude, rounded
    laplacian        cv2.Laplacian CV_16S ksize 1, cv2.convertScaleAbs
    median           cv2.medianBlur, ksize 2r+1 (replicates borders internally)
    erode/dilate     cv2.erode / cv2.dilate, square (2r+1) kernel
    bilateral        cv2.bilateralFilter(d, sigmaColor = sigma_r, sigmaSpace = sigma_s)
    equalize         cv2.equalizeHist per colour channel
    normalize        cv2.normalize NORM_MINMAX to [0, 255] per colour channel
    resize           PIL Image.resize with NEAREST / BILINEAR / BICUBIC / LANCZOS
    flip/flop/transpose/rotate   cv2.flip / cv2.transpose / cv2.rotate; crop by slicing
    point filters    the definitions in numpy (half away from zero), sepia with cv2.transform
"""
import math
import shlex
import sys

import cv2
import numpy as np
from PIL import Image


def load(path):
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"{path}: cannot read")
    if img.dtype != np.uint8:
        raise ValueError(f"{path}: not an 8-bit image")
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    return img


def save(path, img):
    img = np.ascontiguousarray(img)
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA)
    if not cv2.imwrite(path, img):
        raise ValueError(f"{path}: cannot write")


def round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def to_u8(x):
    return np.clip(round_half_away(np.asarray(x, dtype=np.float64)), 0, 255).astype(np.uint8)


def colour_alpha(img):
    """Splits an image into (colour, alpha or None); gray+alpha is not written by our tests."""
    if img.ndim == 3 and img.shape[2] == 4:
        return img[:, :, :3], img[:, :, 3:]
    return img, None


def join(colour, alpha):
    return colour if alpha is None else np.concatenate([colour, alpha], axis=2)


def point(img, fn):
    colour, alpha = colour_alpha(img)
    return join(to_u8(fn(colour.astype(np.float64))), alpha)


def per_channel(img, fn):
    colour, alpha = colour_alpha(img)
    if colour.ndim == 2:
        return join(fn(colour), alpha)
    out = np.stack([fn(np.ascontiguousarray(colour[:, :, k])) for k in range(colour.shape[2])],
                   axis=2)
    return join(out, alpha)


REP = cv2.BORDER_REPLICATE


def gaussian(img, sigma, radius=0):
    r = int(radius) if radius > 0 else int(math.ceil(3 * sigma))
    r = max(r, 1)
    return cv2.GaussianBlur(img, (2 * r + 1, 2 * r + 1), sigma, sigmaY=sigma, borderType=REP)


def filter2d(img, kernel, divisor=0.0, bias=0.0):
    k = np.asarray(kernel, dtype=np.float64)
    n = int(round(math.sqrt(k.size)))
    k = k.reshape(n, n)
    if divisor == 0:
        divisor = k.sum() if k.sum() != 0 else 1.0
    return cv2.filter2D(img, -1, k / divisor, delta=bias, borderType=REP)


def sobel(img):
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3, borderType=REP)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3, borderType=REP)
    return to_u8(cv2.magnitude(gx, gy))


def unsharp(img, sigma, amount, threshold):
    g = gaussian(img, sigma).astype(np.int32)
    v = img.astype(np.int32)
    d = v - g
    sharp = np.clip(v + round_half_away(amount * d), 0, 255)
    return np.where(np.abs(d) < threshold, v, sharp).astype(np.uint8)


def normalize_channel(ch):
    lo, hi = int(ch.min()), int(ch.max())
    if lo == hi:
        return ch.copy()
    return cv2.normalize(ch, None, 0, 255, cv2.NORM_MINMAX)


def rround(x):
    """pixpool's rounding of a target size: half away from zero."""
    return int(math.floor(x + 0.5))


def resize_target(w, h, p):
    if "scale" in p:
        s = float(p["scale"])
        return rround(w * s), rround(h * s)
    tw, th = int(float(p.get("width", 0))), int(float(p.get("height", 0)))
    if tw and not th:
        th = max(1, rround(h * tw / w))
    elif th and not tw:
        tw = max(1, rround(w * th / h))
    return tw, th


def resize(img, p):
    method = p.get("method", "lanczos3")
    rs = getattr(Image, "Resampling", Image)  # Pillow >= 9.1 names them Image.Resampling.X
    res = {"nearest": rs.NEAREST, "bilinear": rs.BILINEAR, "bicubic": rs.BICUBIC,
           "lanczos3": rs.LANCZOS}[method]
    h, w = img.shape[:2]
    tw, th = resize_target(w, h, p)
    mode = {2: "L", 3: "RGB", 4: "RGBA"}[img.ndim if img.ndim == 2 else img.shape[2]]
    out = Image.fromarray(img, mode).resize((tw, th), res)
    return np.asarray(out)


def kernel_list(text):
    return [float(v) for v in text.replace("/", " ").split()]


def run(op, img, p):
    f = lambda key, default: float(p.get(key, default))
    i = lambda key, default: int(float(p.get(key, default)))
    if op == "invert":
        return point(img, lambda v: 255 - v)
    if op == "brightness":
        return point(img, lambda v: v + f("delta", 0))
    if op == "contrast":
        return point(img, lambda v: (v - 128) * f("factor", 1) + 128)
    if op == "linear":
        return point(img, lambda v: f("a", 1) * v + f("b", 0))
    if op == "gamma":
        return point(img, lambda v: 255 * (v / 255) ** (1 / f("g", 1)))
    if op == "threshold":
        return point(img, lambda v: np.where(v >= f("t", 128), 255, 0))
    if op == "posterize":
        l1 = f("levels", 4) - 1
        return point(img, lambda v: round_half_away(round_half_away(v * l1 / 255) * 255 / l1))
    if op == "sepia":
        m = np.array([[.393, .769, .189], [.349, .686, .168], [.272, .534, .131]])
        colour, alpha = colour_alpha(img)
        if colour.ndim == 2:
            colour = cv2.cvtColor(colour, cv2.COLOR_GRAY2RGB)
        return join(cv2.transform(colour, m), alpha)
    if op == "grayscale":
        colour, alpha = colour_alpha(img)
        if colour.ndim == 2:
            return img.copy()
        g = cv2.cvtColor(np.ascontiguousarray(colour), cv2.COLOR_RGB2GRAY)
        return g if alpha is None else np.concatenate([g[:, :, None], alpha], axis=2)
    if op == "box":
        k = 2 * i("radius", 1) + 1
        return cv2.blur(img, (k, k), borderType=REP)
    if op == "gaussian":
        return gaussian(img, f("sigma", 1), i("radius", 0))
    if op == "unsharp":
        return unsharp(img, f("sigma", 1), f("amount", 1), i("threshold", 0))
    if op == "sharpen":
        return filter2d(img, [0, -1, 0, -1, 5, -1, 0, -1, 0])
    if op == "emboss":
        return filter2d(img, [-2, -1, 0, -1, 1, 1, 0, 1, 2], 1)
    if op == "convolve":
        return filter2d(img, kernel_list(p["kernel"]), f("divisor", 0), f("bias", 0))
    if op == "sobel":
        return sobel(img)
    if op == "laplacian":
        return cv2.convertScaleAbs(cv2.Laplacian(img, cv2.CV_16S, ksize=1, borderType=REP))
    if op == "median":
        return cv2.medianBlur(img, 2 * i("radius", 1) + 1)
    if op in ("erode", "dilate"):
        k = 2 * i("radius", 1) + 1
        fn = cv2.erode if op == "erode" else cv2.dilate
        return fn(img, np.ones((k, k), np.uint8), borderType=REP)
    if op == "bilateral":
        return cv2.bilateralFilter(img, i("d", 0), f("sigma_r", 30), f("sigma_s", 3),
                                   borderType=REP)
    if op == "equalize":
        return per_channel(img, cv2.equalizeHist)
    if op == "normalize":
        return per_channel(img, normalize_channel)
    if op == "resize":
        return resize(img, p)
    if op == "flip":
        return cv2.flip(img, 0)
    if op == "flop":
        return cv2.flip(img, 1)
    if op == "transpose":
        return cv2.transpose(img)
    if op == "rotate":
        a = i("angle", 90)
        code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180,
                270: cv2.ROTATE_90_COUNTERCLOCKWISE}[a]
        return cv2.rotate(img, code)
    if op == "crop":
        h, w = img.shape[:2]
        x, y = i("x", 0), i("y", 0)
        cw, ch = i("width", 0) or w - x, i("height", 0) or h - y
        return img[y:y + ch, x:x + cw]
    raise ValueError(f"no reference for filter '{op}'")


def one(args):
    if len(args) < 3:
        raise ValueError("need OP INPUT OUTPUT [KEY=VALUE ...]")
    op, src, dst = args[:3]
    params = {}
    for kv in args[3:]:
        if "=" not in kv:
            raise ValueError(f"'{kv}' is not KEY=VALUE")
        k, v = kv.split("=", 1)
        params[k] = v
    save(dst, run(op, load(src), params))


def main(argv):
    if len(argv) == 3 and argv[1] == "--batch":
        status = 0
        with open(argv[2]) as jobs:
            for line in jobs:
                args = shlex.split(line)
                if not args:
                    continue
                try:
                    one(args)
                except Exception as e:  # report and go on with the other cases
                    print(f"reference.py: {line.strip()}: {e}", file=sys.stderr)
                    status = 1
        return status
    if len(argv) < 4 or argv[1] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        one(argv[1:])
    except Exception as e:
        print(f"reference.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
