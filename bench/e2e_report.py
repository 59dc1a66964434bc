#!/usr/bin/env python3
"""e2e_report.py - helpers of bench/e2e.sh (standard library only: any python3 will do).

Usage:
  e2e_report.py plan N PHOTO...
      The batch data set: one line per photo, "name src cw ch ox oy w h flop flip": crop a
      cw x ch window at (ox, oy) of photo src, mirror it (flop: left-right, flip: top-bottom)
      when asked, and resize it to w x h. Sizes run log-uniformly from 1 to 16 megapixels
      (photo i of N: 16^(i/(N-1)) MP), photos cycle over the inputs, and the crop window and
      the mirroring vary with i, so no two files are alike. Deterministic: the same N and
      photos give the same plan on every machine.
  e2e_report.py parse HYPERFINE.json
      One line per command: "name wall_s user_s sys_s exit_code" (hyperfine 1.15 keeps user
      and system time as a mean over the runs only; e2e.sh runs each command once per call,
      so these are that run's).
  e2e_report.py pnginfo FILE.png
      "zlib header: level L-M, row filters ...": the compression class of the zlib header
      (FLEVEL: 0-1, 2-5, 6, 7-9; zlib also writes 0-1 for its Huffman-only and RLE strategies)
      and the row filters the encoder chose, from the decompressed IDAT stream.
  e2e_report.py table RAW.csv CHECKS.tsv ROWS.tsv
      The markdown tables of the report: one per workload (median wall, user and system CPU,
      output size, the ratio to pixpool), then the output checks.

Raw CSV columns (written by e2e.sh):
  workload,tool,round,wall_s,user_s,sys_s,exit_code,out_bytes
"""
import collections
import csv
import math
import os
import statistics
import struct
import sys
import zlib

TOOLS = {  # raw name -> title
    'pixpool': 'pixpool',
    'vips': 'libvips',
    'im': 'ImageMagick',
    'gm': 'GraphicsMagick',
    'djpeg': 'djpeg (libjpeg-turbo)',
}
SPREAD = 0.15  # runs that differ more than this are flagged


def png_size(path):
    with open(path, 'rb') as f:
        head = f.read(33)
    if head[:8] == b'\x89PNG\r\n\x1a\n' and head[12:16] == b'IHDR':
        return struct.unpack('>II', head[16:24])
    return None


def image_size(path):
    """Width and height of a PNG, or of a JPEG from its SOF marker; None if unknown."""
    s = png_size(path)
    if s:
        return s
    with open(path, 'rb') as f:
        b = f.read()
    if b[:2] != b'\xff\xd8':
        return None
    pos = 2
    while pos + 4 <= len(b):
        if b[pos] != 0xff:
            pos += 1
            continue
        m = b[pos + 1]
        if m in (0xd8, 0x01) or 0xd0 <= m <= 0xd7 or m == 0xff:
            pos += 1 if m == 0xff else 2
            continue
        n = struct.unpack('>H', b[pos + 2:pos + 4])[0]
        if m in (0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf):
            h, w = struct.unpack('>HH', b[pos + 5:pos + 9])
            return w, h
        pos += 2 + n
    return None


def cmd_plan(args):
    n = int(args[0])
    photos = args[1:]
    sizes = []
    for p in photos:
        s = image_size(p)
        if not s:
            sys.exit('e2e_report.py: cannot read the size of ' + p + ' (PNG or JPEG only)')
        sizes.append(s)
    k = len(photos)
    for i in range(n):
        mp = 16 ** (i / (n - 1)) if n > 1 else 1.0
        src = i % k
        sw, sh = sizes[src]
        cw = sw * (100 - 3 * (i % 4)) // 100          # 100, 97, 94 or 91% of the width
        ch = sh * (100 - 3 * ((i // 4) % 4)) // 100   # and of the height
        ox = (sw - cw) * ((i // 2) % 3) // 2          # left, middle or right
        oy = (sh - ch) * ((i // 3) % 3) // 2          # top, middle or bottom
        w = round(math.sqrt(mp * 1e6 * cw / ch))
        h = round(w * ch / cw)
        flop = (i // k) % 2
        flip = (i // (2 * k)) % 2
        print(f'photo{i:03d} {photos[src]} {cw} {ch} {ox} {oy} {w} {h} {flop} {flip}')


def cmd_parse(args):
    import json
    with open(args[0]) as f:
        d = json.load(f)
    for r in d['results']:
        times = r.get('times') or [r['mean']]
        codes = r.get('exit_codes') or [0]
        code = next((c for c in codes if c), 0)
        print(r['command'], f"{times[-1]:.4f}", f"{r['user']:.4f}", f"{r['system']:.4f}", code)


def cmd_pnginfo(args):
    with open(args[0], 'rb') as f:
        b = f.read()
    pos, idat, w, h, bd, ct = 8, [], 0, 0, 8, 2
    while pos + 8 <= len(b):
        n, t = struct.unpack('>I4s', b[pos:pos + 8])
        d = b[pos + 8:pos + 8 + n]
        if t == b'IHDR':
            w, h, bd, ct, _, _, interlace = struct.unpack('>IIBBBBB', d[:13])
            if interlace:
                print('interlaced')
                return
        elif t == b'IDAT':
            idat.append(d)
        pos += 12 + n
    z = b''.join(idat)
    level = {0: '0-1', 1: '2-5', 2: '6', 3: '7-9'}[z[1] >> 6]
    raw = zlib.decompress(z)
    chans = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
    stride = (w * chans * bd + 7) // 8 + 1
    c = collections.Counter(raw[i * stride] for i in range(h))
    names = ['none', 'sub', 'up', 'average', 'paeth']
    used = ', '.join(f'{names[k]} {100 * v / h:.0f}%' for k, v in sorted(c.items(), key=lambda kv: -kv[1]))
    print(f'zlib header: level {level}, row filters {used}')


def fmt(x, digits=2):
    return 'n/a' if x is None else f'{x:.{digits}f}'


def cmd_table(args):
    raw, checks, rows = args
    runs = collections.defaultdict(list)  # (workload, tool) -> [row dicts]
    with open(raw) as f:
        for r in csv.DictReader(f):
            runs[(r['workload'], r['tool'])].append(r)
    desc = collections.OrderedDict()  # workload -> (title, tools in order)
    with open(rows) as f:
        for line in f:
            wl, tools, title = line.rstrip('\n').split('\t', 2)
            desc[wl] = (title, tools.split(','))
    chk = collections.defaultdict(list)
    if os.path.exists(checks):
        with open(checks) as f:
            for line in f:
                p = line.rstrip('\n').split('\t')
                chk[p[0]].append(p[1:])
    flagged = False
    for wl, (title, tools) in desc.items():
        print(f'### {wl}: {title}')
        print()
        print('| tool | runs | median wall s | wall of each run (s) | user s | sys s | output MB | tool wall / pixpool wall |')
        print('|---|---:|---:|---|---:|---:|---:|---:|')
        med = {}
        for t in tools:
            rs = runs.get((wl, t), [])
            ok = [r for r in rs if r['exit_code'] == '0' and r['wall_s']]
            if ok:
                med[t] = statistics.median(float(r['wall_s']) for r in ok)
        base = med.get('pixpool')
        for t in tools:
            rs = runs.get((wl, t), [])
            ok = [r for r in rs if r['exit_code'] == '0' and r['wall_s']]
            bad = [r for r in rs if r not in ok]
            name = TOOLS.get(t, t)
            if not ok:
                why = f"failed (exit {bad[0]['exit_code']})" if bad else 'not run'
                print(f'| {name} | 0 | {why} | | | | | |')
                continue
            walls = [float(r['wall_s']) for r in ok]
            m = med[t]
            spread = (max(walls) - min(walls)) / m if m > 0 else 0
            mark = ' †' if len(walls) > 1 and spread > SPREAD else ''
            flagged = flagged or bool(mark)
            user = statistics.median(float(r['user_s']) for r in ok)
            syst = statistics.median(float(r['sys_s']) for r in ok)
            out = ok[-1]['out_bytes']
            out_mb = f'{int(out) / 1e6:.1f}' if out not in ('', None) else 'n/a'
            ratio = f'{m / base:.2f}' if base else 'n/a'
            each = ', '.join(f'{w:.2f}' for w in walls)
            fails = f' ({len(bad)} failed)' if bad else ''
            print(f'| {name} | {len(ok)}{fails} | {m:.2f}{mark} | {each} | {user:.2f} | {syst:.2f} | {out_mb} | {ratio} |')
        print()
        if chk.get(wl):
            print('Output check (from the last run):')
            print()
            print('| tool | output | decodes (identify-im6.q16) | what it is | mean abs. difference |')
            print('|---|---|---|---|---|')
            for p in chk[wl]:
                p = (p + [''] * 5)[:5]
                p[0] = TOOLS.get(p[0], p[0])
                print('| ' + ' | '.join(x.replace('|', '/') for x in p) + ' |')
            print()
    if flagged:
        print('† the runs of this tool differ by more than 15% of their median: rerun the row.')


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ('plan', 'parse', 'pnginfo', 'table'):
        sys.exit(__doc__)
    {'plan': cmd_plan, 'parse': cmd_parse, 'pnginfo': cmd_pnginfo, 'table': cmd_table}[sys.argv[1]](sys.argv[2:])


if __name__ == '__main__':
    main()
