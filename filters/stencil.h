/*
 * stencil.h - helpers shared by the stencil kernels (files in filters/ only): border replication by
 * padded row copies, and a ring of padded rows that follows a band down the image.
 *
 * The border rule of every spatial filter is "edges extended": a pixel outside the image reads
 * the nearest pixel inside it. Kernels get it by reading rows through pp_ring, whose rows carry
 * r replicated pixels on each side, so the inner loops run branch-free over contiguous bytes.
 */
#ifndef PP_STENCIL_H
#define PP_STENCIL_H

#include "cpu.h"
#include "internal.h"

#include <string.h>

static inline int pp_clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static inline size_t pp_align_up(size_t n) { return (n + PP_ALIGN - 1) & ~(size_t)(PP_ALIGN - 1); }

/* Prefetches n bytes from p into the cache (for reading, or for writing with `write`), one
   request per 64-byte line. Kernels that stream rows call it one row ahead: the hardware
   prefetchers stop at each 4 KiB page, and the fork backend's shared memory has no huge pages
   on most kernels (transparent huge pages for shmem are off by default). */
static inline void pp_prefetch(const void *p, size_t n, bool write)
{
    const char *b = p;
    if (write)
        for (size_t i = 0; i < n; i += 64) __builtin_prefetch(b + i, 1, 3);
    else
        for (size_t i = 0; i < n; i += 64) __builtin_prefetch(b + i, 0, 3);
}

/* Bytes of one padded row of a w x c image with r pixels of border each side. */
static inline size_t pp_padded_stride(int w, int c, int r)
{
    return pp_align_up((size_t)(w + 2 * r) * (size_t)c);
}

/* Copies row y (clamped into the image) of src into dst with r replicated pixels each side. */
static inline void pp_pad_row(const pp_view *src, int y, int r, uint8_t *dst)
{
    const int c = src->channels, w = src->width;
    const uint8_t *in = pp_row(src, pp_clampi(y, 0, src->height - 1));
    memcpy(dst + (size_t)r * c, in, (size_t)w * c);
    for (int i = 0; i < r; i++) {
        memcpy(dst + (size_t)i * c, in, (size_t)c);
        memcpy(dst + (size_t)(r + w + i) * c, in + (size_t)(w - 1) * c, (size_t)c);
    }
}

/* A ring of n = 2r+1 padded rows: rows y-r..y+r of the source around the current row y. */
typedef struct pp_ring {
    const pp_view *src;
    uint8_t *buf;
    size_t pstride;
    int r, n, base; /* base: the band's first row */
} pp_ring;

static inline size_t pp_ring_bytes(int w, int c, int r)
{
    return pp_padded_stride(w, c, r) * (size_t)(2 * r + 1);
}

/* Sets up the ring for output rows starting at y0 (fills rows y0-r .. y0+r-1; the row y0+r is
   added by pp_ring_advance before the first use). */
static inline void pp_ring_init(pp_ring *g, const pp_view *src, int r, int y0, void *scratch)
{
    g->src = src;
    g->buf = scratch;
    g->r = r;
    g->n = 2 * r + 1;
    g->pstride = pp_padded_stride(src->width, src->channels, r);
    g->base = y0;
    for (int yy = y0 - r; yy < y0 + r; yy++)
        pp_pad_row(src, yy, r, g->buf + (size_t)((yy - y0 + r) % g->n) * g->pstride);
}

/* Makes rows y-r..y+r available (call once per output row, in increasing y). */
static inline void pp_ring_advance(pp_ring *g, int y)
{
    int yy = y + g->r;
    pp_pad_row(g->src, yy, g->r, g->buf + (size_t)((yy - g->base + g->r) % g->n) * g->pstride);
    if (yy + 1 < g->src->height) /* the row the next call pads, while this row is computed */
        pp_prefetch(pp_row(g->src, yy + 1), (size_t)g->src->width * (size_t)g->src->channels, false);
}

/* Prefetches output row y of dst for writing, when it exists (call it for the next row). */
static inline void pp_prefetch_out(const pp_view *dst, int y)
{
    if (y < dst->height) pp_prefetch(pp_row(dst, y), (size_t)dst->width * (size_t)dst->channels, true);
}

/* Padded row y+dy (dy in -r..r) for the current output row y. */
static inline const uint8_t *pp_ring_row(const pp_ring *g, int y, int dy)
{
    return g->buf + (size_t)((y + dy - g->base + g->r) % g->n) * g->pstride;
}

#endif /* PP_STENCIL_H */
