#!/usr/bin/env python3
"""Prints the comparator tables of median_net.h: python3 filters/median_net.py 9 25 49

Batcher's odd-even merge sort on the next power of two of wires, the comparators that touch a
padding wire (index >= n) dropped, then only those that can reach the middle wire kept (a
backward walk from wire n // 2)."""
import sys


def batcher(n):
    """Batcher's odd-even merge sort on n = 2^k wires, comparators (a, b) with a < b, in order."""
    out, p = [], 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k - 1, n - j - k - 1) + 1):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        out.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return out


def median_net(m):
    n = 1
    while n < m:
        n *= 2
    net = [c for c in batcher(n) if c[1] < m]
    need, keep = {m // 2}, []
    for a, b in reversed(net):
        if a in need or b in need:
            keep.append((a, b))
            need |= {a, b}
    return keep[::-1]


if __name__ == "__main__":
    for m in map(int, sys.argv[1:]):
        net = median_net(m)
        print(f"/* median of {m}: {len(net)} comparators, the median on wire {m // 2} */")
        print(", ".join("{%d, %d}" % c for c in net))
