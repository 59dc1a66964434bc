#!/usr/bin/env python3
"""layers.py - the call and include graph of the library's sources, and its loops.

Usage: layers.py [SOURCE_DIR] [--graph]

Reads src/*.c, src/codec/*.c, filters/*.c, src/cli/*.c and their headers. A file "calls"
another when it names a function (or an executor or filter-family table) that the other defines
with external linkage; a file "includes" another with #include "...". Prints every loop of either graph and exits 1 when
there is one (ctest runs it as test `layers`); --graph also prints the call graph.
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "."
show = "--graph" in sys.argv
dirs = ["src", "src/codec", "filters", "src/cli"]
files = []
for d in dirs:
    p = os.path.join(root, d)
    for name in sorted(os.listdir(p)):
        if name.endswith((".c", ".h")):
            files.append(os.path.join(d, name))

comment = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
string = re.compile(r'"(?:\\.|[^"\\\n])*"')
text = {}
for f in files:
    with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
        raw = fh.read()
    text[f] = raw
defs = {}  # name -> file defining it with external linkage
define = re.compile(r"^(?!static|typedef|struct|enum|union|return|else|if|for|while|switch)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\([^;{]*\)\s*\{",
                    re.M | re.S)
table = re.compile(r"^const\s+\w+\s+(pp_\w+)(?:\[\])?\s*=", re.M)  # executor and family tables
for f in files:
    if not f.endswith(".c"):
        continue
    body = comment.sub(" ", text[f])
    for m in define.finditer(body):
        defs.setdefault(m.group(1), f)
    for m in table.finditer(body):
        defs.setdefault(m.group(1), f)

ident = re.compile(r"\b([A-Za-z_]\w*)\b")
calls = {f: set() for f in files if f.endswith(".c")}
for f in calls:
    body = string.sub('""', comment.sub(" ", text[f]))
    names = [m.group(1) for m in ident.finditer(body)]
    names += ["pp_family_" + m.group(1) for m in re.finditer(r"\bX\((\w+)\)", body)]  # FAMILIES
    for name in names:
        g = defs.get(name)
        if g and g != f:
            calls[f].add(g)

inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
includes = {f: set() for f in files}
for f in files:
    for m in inc.finditer(text[f]):
        target = os.path.normpath(os.path.join(os.path.dirname(f), m.group(1)))
        if target in includes:
            includes[f].add(target)


def loops(graph):
    """Every elementary cycle, each reported once (Johnson's idea, simply: DFS from each node
    over nodes greater than it)."""
    out = []
    nodes = sorted(graph)
    for start in nodes:
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        path = [start]
        on = {start}
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                on.discard(path.pop())
                continue
            if nxt == start:
                out.append(path + [start])
            elif nxt > start and nxt not in on and nxt in graph:
                path.append(nxt)
                on.add(nxt)
                stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
    return out


bad = 0
for kind, graph in (("call", calls), ("include", includes)):
    for cyc in loops(graph):
        print(f"{kind} loop: " + " -> ".join(cyc))
        bad += 1
if show:
    for f in sorted(calls):
        print(f"{f}: {' '.join(sorted(calls[f]))}")
print(f"{len(calls)} source files, {sum(map(len, calls.values()))} call edges, "
      f"{sum(map(len, includes.values()))} include edges: {bad} loop(s)")
sys.exit(1 if bad else 0)
