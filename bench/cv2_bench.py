#!/usr/bin/python3
"""cv2_bench.py - times OpenCV calls in-process for bench/compare.sh.

Usage:
  cv2_bench.py kernel IMAGE WORKLOAD THREADS[,THREADS...] [--runs 7] [--warmup 1] [--save FILE]
      Loads IMAGE (as RGB), then for each thread count: cv2.setNumThreads(N), warm-up runs,
      then --runs timed runs of the workload's call(s) (time.perf_counter around the call only).
      Prints one CSV line per thread count:
          workload,threads,median_ms,min_ms,max_ms,cpu_over_wall,runs
      cpu_over_wall is time.process_time() over wall time across the timed runs: about 1.0 when
      one core worked, about N when N did (it shows which calls ignore setNumThreads).
      --save FILE writes the output of the last single-thread run (for the agreement check).
  cv2_bench.py pipeline IN OUT THREADS
      The libvips benchmark pipeline file to file: read, crop 100 pixels off each edge, shrink
      to 90% (INTER_AREA), 3x3 sharpen (-1 -1 -1 / -1 16 -1 / -1 -1 -1) / 8, write PNG with
      zlib level 1.
  cv2_bench.py floor IMAGE [--runs 7]
      The memory floor of a point operation on IMAGE, one core: numpy.copyto of the decoded
      pixels into an array of the same size that was written before (reads and writes every
      byte once, no page faults). Prints "floor,1,median_ms,min_ms,max_ms".
  cv2_bench.py list
      The workloads this script knows, one per line ("name" or "name n/a: reason").

Run it with the system interpreter (/usr/bin/python3), which has Debian's python3-opencv.
Borders: BORDER_REPLICATE everywhere, as pixpool extends edges.
"""
import statistics
import sys
import time

import cv2
import numpy as np

R = cv2.BORDER_REPLICATE
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32)
SHARPEN8 = np.array([[-1, -1, -1], [-1, 16, -1], [-1, -1, -1]], np.float32) / 8


def linear16(img):
    # v' = 1.2 v + 10 levels of 8 bits (10 * 257 at 16 bits), saturated, as pixpool's linear
    return cv2.addWeighted(img, 1.2, img, 0.0, 10.0 * 257)


def sobel(img):
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3, borderType=R)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3, borderType=R)
    return cv2.convertScaleAbs(cv2.magnitude(gx, gy))


def unsharp(img):
    blur = cv2.GaussianBlur(img, (11, 11), 1.5, borderType=R)
    return cv2.addWeighted(img, 2.0, blur, -1.0, 0.0)


def equalize(img):
    if img.ndim == 2:
        return cv2.equalizeHist(img)
    return cv2.merge([cv2.equalizeHist(c) for c in cv2.split(img)])


# name -> callable, or a string saying why there is no equivalent call
WORKLOADS = {
    'gaussian-2': lambda im: cv2.GaussianBlur(im, (13, 13), 2.0, borderType=R),
    'box-5': lambda im: cv2.blur(im, (11, 11), borderType=R),
    'sharpen': lambda im: cv2.filter2D(im, -1, SHARPEN, borderType=R),
    'sobel': sobel,
    'median-2': lambda im: cv2.medianBlur(im, 5),
    'resize-50': 'no antialiased Lanczos shrink in OpenCV',
    'grayscale': lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2GRAY),
    'invert': cv2.bitwise_not,
    'linear': lambda im: cv2.convertScaleAbs(im, alpha=1.2, beta=10),
    'gaussian-10': lambda im: cv2.GaussianBlur(im, (61, 61), 10.0, borderType=R),
    'unsharp': unsharp,
    'equalize': equalize,
    'rotate-90': lambda im: cv2.rotate(im, cv2.ROTATE_90_CLOCKWISE),
}


def load_rgb(path):
    im = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if im is None:
        sys.exit(f'cv2_bench.py: cannot read {path}')
    if im.ndim == 3 and im.shape[2] == 3:
        im = cv2.cvtColor(im, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(im)


def save_rgb(path, im):
    if im.ndim == 3 and im.shape[2] == 3:
        im = cv2.cvtColor(im, cv2.COLOR_RGB2BGR)
    cv2.imwrite(path, im)


# At 16 bits (compare.sh --depth 16: PP_COMPARE_DEPTH=16) the calls that have no CV_16U form
WORKLOADS16 = {
    'linear': linear16,
    'sobel': 'cv2.convertScaleAbs gives 8 bits',
    'equalize': 'cv2.equalizeHist takes 8 bits only',
}


def kernel(args):
    image, name, threads = args[0], args[1], [int(t) for t in args[2].split(',')]
    runs, warmup, save = 7, 1, None
    rest = args[3:]
    while rest:
        opt, val, rest = rest[0], rest[1], rest[2:]
        if opt == '--runs':
            runs = int(val)
        elif opt == '--warmup':
            warmup = int(val)
        elif opt == '--save':
            save = val
        else:
            sys.exit(f'cv2_bench.py: unknown option {opt}')
    import os
    table = dict(WORKLOADS)
    if os.environ.get('PP_COMPARE_DEPTH') == '16':
        table.update(WORKLOADS16)
    fn = table.get(name)
    if fn is None:
        sys.exit(f'cv2_bench.py: unknown workload {name}')
    if isinstance(fn, str):
        sys.exit(f'cv2_bench.py: {name}: n/a ({fn})')
    im = load_rgb(image)
    for n in threads:
        cv2.setNumThreads(n)
        for _ in range(warmup):
            out = fn(im)
        times = []
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(runs):
            t0 = time.perf_counter()
            out = fn(im)
            times.append((time.perf_counter() - t0) * 1e3)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        print(f'{name},{n},{statistics.median(times):.4f},{min(times):.4f},{max(times):.4f},'
              f'{cpu / wall:.3f},{runs}', flush=True)
        if save and n == 1:
            save_rgb(save, out)


def floor(args):
    image, runs = args[0], 7
    if len(args) == 3 and args[1] == '--runs':
        runs = int(args[2])
    im = load_rgb(image)
    dst = np.empty_like(im)
    dst.fill(1)
    np.copyto(dst, im)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        np.copyto(dst, im)
        times.append((time.perf_counter() - t0) * 1e3)
    print(f'floor,1,{statistics.median(times):.4f},{min(times):.4f},{max(times):.4f}', flush=True)


def pipeline(args):
    src, dst, threads = args[0], args[1], int(args[2])
    cv2.setNumThreads(threads)
    im = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    if im is None:
        sys.exit(f'cv2_bench.py: cannot read {src}')
    h, w = im.shape[:2]
    im = im[100:h - 100, 100:w - 100]
    nw, nh = round((w - 200) * 0.9), round((h - 200) * 0.9)
    im = cv2.resize(im, (nw, nh), interpolation=cv2.INTER_AREA)
    im = cv2.filter2D(im, -1, SHARPEN8, borderType=R)
    if not cv2.imwrite(dst, im, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        sys.exit(f'cv2_bench.py: cannot write {dst}')


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'kernel' and len(args) >= 3:
        kernel(args)
    elif cmd == 'floor' and len(args) in (1, 3):
        floor(args)
    elif cmd == 'pipeline' and len(args) == 3:
        pipeline(args)
    elif cmd == 'list':
        for k, v in WORKLOADS.items():
            print(k if callable(v) else f'{k} n/a: {v}')
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
