/*
 * heap.c - pixel buffers and per-thread kernel scratch of the serial and OpenMP executors.
 *
 * Guarantees:
 *  - buffers are aligned to PP_ALIGN (64 bytes); large ones (>= 1 MiB) to 2 MiB and mapped
 *    with MADV_HUGEPAGE, so first touch faults 2 MiB pages instead of 4 KiB ones;
 *  - a freed large buffer is kept for reuse by the next allocation of the same rounded size
 *    (at most HEAP_KEEP_BLOCKS blocks and HEAP_KEEP_BYTES bytes; the rest is unmapped), so a
 *    pipeline, a benchmark loop or a batch of same-sized images stops paying page faults;
 *  - every live block holds a reference on its pp_heap; the heap is destroyed (and its cached
 *    blocks unmapped) when the context and all its images are gone. A mutex makes freeing an
 *    image from another thread safe.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HEAP_BIG ((size_t)1 << 20)
#define HEAP_HUGE ((size_t)2 << 20)
#define HEAP_KEEP_BLOCKS 6
#define HEAP_KEEP_BYTES ((size_t)512 << 20)

struct pp_heap {
    pthread_mutex_t mu;
    int refs; /* the context + live blocks */
    int nkeep;
    size_t kept_bytes;
    struct {
        void *p;
        size_t len;
    } keep[HEAP_KEEP_BLOCKS];
};

static size_t map_len(size_t bytes) { return (bytes + HEAP_HUGE - 1) & ~(HEAP_HUGE - 1); }

static void *map_big(size_t len)
{
    /* over-map by 2 MiB and trim, so the block starts on a huge-page boundary */
    uint8_t *raw = mmap(NULL, len + HEAP_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t a = ((uintptr_t)raw + HEAP_HUGE - 1) & ~(uintptr_t)(HEAP_HUGE - 1);
    size_t head = a - (uintptr_t)raw, tail = HEAP_HUGE - head;
    if (head) munmap(raw, head);
    if (tail) munmap((uint8_t *)a + len, tail);
    madvise((void *)a, len, MADV_HUGEPAGE); /* advice only: ignore failure */
    return (void *)a;
}

struct pp_heap *pp_heap_get(pp_ctx *ctx)
{
    if (!ctx->heap) {
        struct pp_heap *h = calloc(1, sizeof *h);
        if (!h) return NULL;
        pthread_mutex_init(&h->mu, NULL);
        h->refs = 1; /* the context's */
        ctx->heap = h;
    }
    return ctx->heap;
}

static void heap_destroy(struct pp_heap *h)
{
    for (int i = 0; i < h->nkeep; i++) munmap(h->keep[i].p, h->keep[i].len);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void pp_heap_unref(struct pp_heap *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    int left = --h->refs;
    pthread_mutex_unlock(&h->mu);
    if (left == 0) heap_destroy(h);
}

static void *heap_alloc(pp_ctx *ctx, size_t bytes)
{
    struct pp_heap *h = pp_heap_get(ctx);
    if (!h) return NULL;
    void *p = NULL;
    if (bytes >= HEAP_BIG) {
        size_t len = map_len(bytes);
        pthread_mutex_lock(&h->mu);
        for (int i = 0; i < h->nkeep; i++)
            if (h->keep[i].len == len) {
                p = h->keep[i].p;
                h->kept_bytes -= len;
                h->keep[i] = h->keep[--h->nkeep];
                break;
            }
        pthread_mutex_unlock(&h->mu);
        if (!p) p = map_big(len);
    } else {
        size_t n = (bytes + PP_ALIGN - 1) & ~(size_t)(PP_ALIGN - 1);
        p = aligned_alloc(PP_ALIGN, n ? n : PP_ALIGN);
    }
    if (!p) return NULL;
    pthread_mutex_lock(&h->mu);
    h->refs++;
    pthread_mutex_unlock(&h->mu);
    return p;
}

void pp_heap_release(struct pp_heap *h, void *ptr, size_t bytes)
{
    if (!h || !ptr) return;
    if (bytes < HEAP_BIG) {
        free(ptr);
    } else {
        size_t len = map_len(bytes);
        pthread_mutex_lock(&h->mu);
        if (h->nkeep == HEAP_KEEP_BLOCKS || h->kept_bytes + len > HEAP_KEEP_BYTES) {
            /* evict the oldest kept block to make room, or give this one back */
            if (h->nkeep > 0 && len <= HEAP_KEEP_BYTES) {
                munmap(h->keep[0].p, h->keep[0].len);
                h->kept_bytes -= h->keep[0].len;
                memmove(&h->keep[0], &h->keep[1], (size_t)(h->nkeep - 1) * sizeof h->keep[0]);
                h->nkeep--;
            }
        }
        if (h->nkeep < HEAP_KEEP_BLOCKS && h->kept_bytes + len <= HEAP_KEEP_BYTES) {
            h->keep[h->nkeep].p = ptr;
            h->keep[h->nkeep].len = len;
            h->nkeep++;
            h->kept_bytes += len;
            ptr = NULL;
        }
        pthread_mutex_unlock(&h->mu);
        if (ptr) munmap(ptr, len);
    }
    pp_heap_unref(h);
}

static void heap_release_block(void *owner, void *ptr, size_t bytes)
{
    pp_heap_release(owner, ptr, bytes);
}

pp_status pp_heap_alloc(pp_ctx *ctx, size_t bytes, pp_block *out)
{
    void *p = heap_alloc(ctx, bytes);
    if (!p) {
        *out = (pp_block){0};
        return PP_ERR_NOMEM;
    }
    *out = (pp_block){p, bytes, heap_release_block, ctx->heap};
    return PP_OK;
}

bool pp_heap_can_see(pp_ctx *ctx, const void *ptr)
{
    (void)ctx;
    (void)ptr;
    return true;
}

/* Scratch for `n` workers of `per` bytes each, kept on the context between stages. */
uint8_t *pp_scratch(pp_ctx *ctx, size_t per, int n, size_t *stride_out)
{
    size_t stride = (per + PP_ALIGN - 1) & ~(size_t)(PP_ALIGN - 1);
    if (stride == 0) stride = PP_ALIGN;
    if (n <= 0 || stride > SIZE_MAX / (size_t)n) return NULL;
    size_t total = stride * (size_t)n;
    if (total > ctx->omp_scratch_bytes) {
        free(ctx->omp_scratch);
        ctx->omp_scratch = aligned_alloc(PP_ALIGN, total);
        ctx->omp_scratch_bytes = ctx->omp_scratch ? total : 0;
        if (!ctx->omp_scratch) return NULL;
    }
    *stride_out = stride;
    return ctx->omp_scratch;
}

void pp_heap_teardown(pp_ctx *ctx)
{
    pp_heap_unref(ctx->heap); /* blocks still in use keep the heap alive */
    ctx->heap = NULL;
    free(ctx->omp_scratch);
    ctx->omp_scratch = NULL;
    ctx->omp_scratch_bytes = 0;
}
