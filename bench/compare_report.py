#!/usr/bin/python3
"""compare_report.py - helpers of bench/compare.sh: image agreement and the result tables.

Usage:
  compare_report.py diff REFERENCE OTHER
      Prints "mean max" absolute difference per channel value between two images (read with
      OpenCV; a gray image against a colour one compares against the colour one's first
      channel when its channels are equal). Prints "size WxH vs WxH" when sizes differ.
  compare_report.py table RAW.csv
      Reads the raw rows compare.sh wrote and prints the markdown tables: kernel throughput
      (megapixels/s and the ratio to pixpool), CPU time over wall time (the check that each
      thread setting took effect), agreement with pixpool, and the file-to-file pipeline.

Raw CSV columns (written by compare.sh):
  round,section,workload,tool,threads,kind,wall_s,cpu_s,peak_kb,median_ms,cpu_over_wall,
  megapixels,out_bytes,mean_diff,max_diff,status
"""
import csv
import statistics
import sys
from collections import OrderedDict, defaultdict

TOOLS = [  # (raw name, column title)
    ('pixpool', 'pixpool'),
    ('pixpool-fork', 'pixpool fork'),
    ('opencv', 'OpenCV'),
    ('vips', 'libvips CLI'),
    ('im', 'ImageMagick CLI'),
    ('gm', 'GraphicsMagick CLI'),
]
CLI_TOOLS = {'vips', 'im', 'gm'}
SPREAD = 0.15  # rows whose rounds differ more than this are flagged
# The goal (issue 9): at 1 thread pixpool at least as fast as the fastest peer; at 2 workers
# both backends 1.8x their own 1-thread time on the filters that compute, and the point
# operations within 1.5x the memory floor (a copy of the image, scaled by the bytes they move).
POINT = {'grayscale', 'invert', 'linear'}
OUT_RATIO = {'grayscale': 1 / 3, 'resize-50': 0.25}  # output bytes / input bytes, else 1
SPEEDUP_GOAL = 1.8
FLOOR_GOAL = 1.5


def diff(a_path, b_path):
    import cv2
    import numpy as np
    a = cv2.imread(a_path, cv2.IMREAD_UNCHANGED)
    b = cv2.imread(b_path, cv2.IMREAD_UNCHANGED)
    if a is None or b is None:
        sys.exit(f'compare_report.py: cannot read {a_path if a is None else b_path}')
    if a.shape[:2] != b.shape[:2]:
        print(f'size {a.shape[1]}x{a.shape[0]} vs {b.shape[1]}x{b.shape[0]}')
        return
    if a.ndim != b.ndim:
        col, gray = (a, b) if a.ndim == 3 else (b, a)
        a, b = col[:, :, 0], gray
    elif a.ndim == 3 and a.shape[2] != b.shape[2]:
        n = min(a.shape[2], b.shape[2])
        a, b = a[:, :, :n], b[:, :, :n]
    d = np.abs(a.astype(np.int32) - b.astype(np.int32))
    print(f'{d.mean():.3f} {int(d.max())}')


def fnum(v, digits=1):
    return '-' if v is None else f'{v:.{digits}f}'


def spread(values):
    return (max(values) - min(values)) / statistics.median(values) if len(values) > 1 else 0.0


def goal_table(order, result, groups, med, threads):
    """The goal table: times in ms at 1 thread and at the largest thread count."""
    tn = max(threads)
    names = {'opencv': 'OpenCV', 'vips': 'libvips', 'im': 'ImageMagick', 'gm': 'GraphicsMagick'}
    floor, _ = med(('floor', 'floor', 'copy', 1, 'inproc'), 'median_ms')

    def ms(wl, tool, t):
        v = result.get((wl, tool, t))
        return None if v is None or v[0] is None or v[4] else v[0]

    def fastest(wl, t):
        best = None
        for tool in names:
            m = ms(wl, tool, t)
            if m is not None and (best is None or m < best[1]):
                best = (tool, m)
        return best

    out = [f'Times in ms (medians; pixpool at 1 thread is its serial backend). Speedup = pixpool\'s '
           f'1-thread time / its {tn}-worker time. Goal: at 1 thread no peer faster; at {tn} '
           f'workers, openmp and fork each {SPEEDUP_GOAL}x on the filters that compute, and the '
           f'point operations ({", ".join(sorted(POINT))}) within {FLOOR_GOAL}x the memory floor '
           '(the time to copy the image once, scaled by the bytes the operation reads and writes'
           + (f': {floor:.2f} ms for a copy of this image on one core).' if floor else
              ': not measured, needs OpenCV).'),
           '',
           f'| workload | pixpool 1 | fastest peer 1 | pixpool / peer | openmp {tn} (speedup) '
           f'| fork {tn} (speedup) | fastest peer {tn} | goal |',
           '|---|---:|---:|---:|---:|---:|---:|---|']
    for wl in order:
        p1 = ms(wl, 'pixpool', 1)
        po, pf = ms(wl, 'pixpool', tn), ms(wl, 'pixpool-fork', tn)
        b1, bn = fastest(wl, 1), fastest(wl, tn)
        miss = []
        if p1 is None:
            miss.append('no 1-thread time')
        elif b1 and b1[1] < p1:
            miss.append(f'{names[b1[0]]} {p1 / b1[1]:.2f}x faster at 1 thread')
        for label, m in (('openmp', po), ('fork', pf)):
            if m is None or p1 is None:
                miss.append(f'no {label} time')
            elif wl in POINT:
                if floor:
                    bar = FLOOR_GOAL * floor * (1 + OUT_RATIO.get(wl, 1)) / 2
                    if m > bar:
                        miss.append(f'{label} {m:.2f} ms > {bar:.2f}')
            elif p1 / m < SPEEDUP_GOAL:
                miss.append(f'{label} {p1 / m:.2f}x')

        def t(m, base=None):
            if m is None:
                return 'n/a'
            return f'{m:.2f}' + (f' ({base / m:.2f}x)' if base else '')
        out.append(f'| {wl} | {t(p1)} | ' +
                   (f'{t(b1[1])} {names[b1[0]]}' if b1 else 'n/a') + ' | ' +
                   (f'{p1 / b1[1]:.2f}' if b1 and p1 else 'n/a') +
                   f' | {t(po, p1)} | {t(pf, p1)} | ' +
                   (f'{t(bn[1])} {names[bn[0]]}' if bn else 'n/a') +
                   f' | {"met" if not miss else "missed: " + "; ".join(miss)} |')
    out.append('')
    return out


def times_table(order, result, status, threads):
    """Every tool's kernel time in ms at each thread count, side by side."""
    cols = []
    for tool, title in TOOLS:
        for t in threads:
            if tool == 'pixpool-fork' and t == 1:
                continue
            name = title.replace(' CLI', '')
            if tool == 'pixpool' and t > 1:
                name = 'pixpool openmp'
            cols.append((tool, t, f'{name} {t}'))

    def cell(wl, tool, t):
        v = result.get((wl, tool, t))
        if v is None:
            st = status.get((wl, tool), '')
            return 'n/a' if st.startswith('n/a') or not st else 'failed'
        ms, _, flag, _, tiny = v
        if tiny:
            return 'noise'
        return (f'{ms:.1f}' if ms >= 10 else f'{ms:.2f}') + (' †' if flag else '')

    out = ['Kernel times in ms, every tool at each thread count (pixpool at 1 thread is its serial '
           'backend; "noise": a CLI kernel below the noise of its no-op run; † rounds differ '
           'by more than 15%):',
           '',
           '| workload | ' + ' | '.join(c[2] for c in cols) + ' |',
           '|---|' + '---:|' * len(cols)]
    for wl in order:
        out.append(f'| {wl} | ' + ' | '.join(cell(wl, tool, t) for tool, t, _ in cols) + ' |')
    out.append('')
    return out


def table(path):
    rows = list(csv.DictReader(open(path, newline='')))
    order = OrderedDict()
    for r in rows:  # the check rows come first, in the script's workload order
        if r['section'] in ('check', 'kernel'):
            order.setdefault(r['workload'], None)
    threads = sorted({int(r['threads']) for r in rows if r['section'] == 'kernel'})
    groups = defaultdict(list)
    status = {}
    for r in rows:
        key = (r['section'], r['workload'], r['tool'], int(r['threads']), r['kind'])
        if r['status'] == 'ok':
            groups[key].append(r)
        else:
            status.setdefault((r['workload'], r['tool']), r['status'])

    def med(key, field):
        vals = [float(r[field]) for r in groups.get(key, []) if r[field] != '']
        return (statistics.median(vals), spread(vals)) if vals else (None, 0.0)

    # kernel time (ms), cpu/wall, flag per (workload, tool, threads)
    result = {}
    for wl in order:
        mpx = None
        for r in rows:
            if r['workload'] == wl and r['megapixels']:
                mpx = float(r['megapixels'])
                break
        for tool, _ in TOOLS:
            for t in threads:
                if tool in CLI_TOOLS:
                    op_w, s1 = med(('kernel', wl, tool, t, 'op'), 'wall_s')
                    no_w, s2 = med(('kernel', wl, tool, t, 'noop'), 'wall_s')
                    op_c, _ = med(('kernel', wl, tool, t, 'op'), 'cpu_s')
                    no_c, _ = med(('kernel', wl, tool, t, 'noop'), 'cpu_s')
                    if op_w is None or no_w is None:
                        continue
                    k = op_w - no_w
                    noise = max(0.005, 0.05 * no_w)
                    ms = k * 1e3 if k > noise else None
                    # CPU times have a resolution of 10 ms: no ratio for short kernels
                    cw = (op_c - no_c) / k if k > max(noise, 0.05) else None
                    result[(wl, tool, t)] = (ms, cw, max(s1, s2) > SPREAD, mpx, k <= noise)
                else:
                    ms, s = med(('kernel', wl, tool, t, 'inproc'), 'median_ms')
                    cw, _ = med(('kernel', wl, tool, t, 'inproc'), 'cpu_over_wall')
                    if ms is not None:
                        result[(wl, tool, t)] = (ms, cw, s > SPREAD, mpx, False)

    def cell(wl, tool, t, what):
        v = result.get((wl, tool, t))
        if v is None:
            st = status.get((wl, tool), '')
            return 'n/a' if st.startswith('n/a') or not st else 'failed'
        ms, cw, flag, mpx, tiny = v
        if what == 'cpu':
            return fnum(cw, 2)
        if tiny:
            return 'below CLI noise'
        mps = mpx / (ms / 1e3)
        ref = result.get((wl, 'pixpool', t))
        text = f'{mps:.1f}'
        if tool != 'pixpool' and ref and ref[0] and not ref[4]:
            text += f' ({mps / (mpx / (ref[0] / 1e3)):.2f})'
        return text + (' †' if flag else '')

    out = goal_table(order, result, groups, med, threads)
    out += times_table(order, result, status, threads)
    titles = [title for _, title in TOOLS]
    out.append('Kernel throughput, megapixels per second (in parentheses: the ratio to pixpool at '
               'the same thread count; > 1 means faster than pixpool). pixpool at 1 thread is '
               'its serial backend, at more its openmp backend; "pixpool fork" is the process '
               'pool. pixpool and OpenCV are timed in-process; CLI* columns are the wall time of '
               'the command minus that of a no-op command (read, write) of the same tool.')
    out.append('')
    out.append('| workload | threads | ' + ' | '.join(titles) + ' |')
    out.append('|---|---:|' + '---:|' * len(titles))
    for wl in order:
        for t in threads:
            cells = [cell(wl, tool, t, 'mps') for tool, _ in TOOLS]
            out.append(f'| {wl} | {t} | ' + ' | '.join(cells) + ' |')
    out.append('')
    out.append('† the rounds of this measurement differ by more than 15%: rerun it.')
    out.append('')
    out.append('CPU time over wall time of the measured work (about 1 when one core worked, '
               'about the thread count when all did):')
    out.append('')
    out.append('| workload | threads | ' + ' | '.join(titles) + ' |')
    out.append('|---|---:|' + '---:|' * len(titles))
    for wl in order:
        for t in threads:
            out.append(f'| {wl} | {t} | ' +
                       ' | '.join(cell(wl, tool, t, 'cpu') for tool, _ in TOOLS) + ' |')
    # agreement
    diffs = {(r['workload'], r['tool']): r for r in rows if r['section'] == 'check'}
    if diffs:
        out.append('')
        out.append('Agreement with pixpool\'s output (mean / max absolute difference per channel '
                   'value, single thread):')
        out.append('')
        others = [(k, t) for k, t in TOOLS if k not in ('pixpool', 'pixpool-fork')]
        out.append('| workload | ' + ' | '.join(t for _, t in others) + ' |')
        out.append('|---|' + '---:|' * len(others))
        for wl in order:
            cells = []
            for tool, _ in others:
                r = diffs.get((wl, tool))
                if r is None:
                    cells.append('n/a')
                elif r['status'] != 'ok':
                    cells.append(r['status'].split(':')[0])
                else:
                    cells.append(f"{float(r['mean_diff']):.2f} / {r['max_diff']}")
            out.append(f'| {wl} | ' + ' | '.join(cells) + ' |')
    # pipeline
    prow = [r for r in rows if r['section'] == 'pipeline']
    if prow:
        out.append('')
        out.append('File to file: the libvips benchmark pipeline (read PNG, crop 100 pixels off '
                   'each edge, shrink to 90%, 3x3 sharpen, write PNG at zlib level 1); wall time '
                   'and peak resident memory (/usr/bin/time), medians of the rounds:')
        out.append('')
        out.append('| tool | threads | wall s | MP/s | CPU/wall | peak RSS MB | output MB |')
        out.append('|---|---:|---:|---:|---:|---:|---:|')
        seen = OrderedDict()
        for r in prow:
            seen.setdefault((r['tool'], int(r['threads'])), None)
        titles_by = dict(TOOLS)
        for tool, t in seen:
            key = ('pipeline', 'pipeline', tool, t, 'e2e')
            w, s = med(key, 'wall_s')
            if w is None:
                out.append(f'| {titles_by.get(tool, tool)} | {t} | failed | | | | |')
                continue
            c, _ = med(key, 'cpu_s')
            m, _ = med(key, 'peak_kb')
            b, _ = med(key, 'out_bytes')
            mpx = float(groups[key][0]['megapixels'])
            out.append(f'| {titles_by.get(tool, tool).replace(" CLI", "")} | {t} | {w:.2f}'
                       f'{" †" if s > SPREAD else ""} | {mpx / w:.1f} | {c / w:.2f} | '
                       f'{m / 1024:.0f} | {b / 1e6:.1f} |')
    print('\n'.join(out))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'diff':
        diff(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == 'table':
        table(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
