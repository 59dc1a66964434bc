/*
 * arena.c - the shared-memory arena of the fork backend: one memfd segment, mapped once, and a
 * parent-private allocator of blocks inside it.
 *
 * What it is for: pixel buffers that the parent and its forked workers all see at the same
 * address, so that a stage (views, partial slots, the kernel pointer) can be copied into shared
 * memory as is and no pixel is ever copied between processes.
 *
 * Guarantees:
 *  - The segment is a memfd (MFD_CLOEXEC): it has no name in /dev/shm or anywhere else, cannot
 *    leak when the process dies, and is not inherited by programs the caller exec()s. Its size
 *    is set once with ftruncate (sparse: a page costs memory only once touched) and sealed
 *    against growing and shrinking; it is mapped once, MAP_SHARED | MAP_NORESERVE, before any
 *    worker is forked, so every worker has it at the same address. It is never remapped (a
 *    worker could not follow), so it is sized generously up front: physical RAM + swap,
 *    rounded up to a GiB and clamped to 1 GiB..1 TiB, halved until the mapping succeeds (an
 *    address-space rlimit). When it is full, allocation fails cleanly (NULL -> PP_ERR_NOMEM).
 *  - Blocks are aligned to PP_ALIGN (64 bytes) and rounded up to it. The allocator is a
 *    first-fit free list of disjoint, coalesced ranges, sorted by offset, kept in the parent's
 *    heap: only the creating process allocates and frees; workers never touch it.
 *  - Memory is given back. Freed ranges are first kept resident ("dirty") because faulting fresh
 *    shared pages in costs far more than reusing warm ones; once the dirty total exceeds the
 *    keep limit - max(256 MiB, the largest of the last 16 allocations) - the oldest dirty ranges
 *    are punched out with fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) - only the
 *    excess, from the high end of a range, whole pages only (a page is punched when it lies
 *    entirely in free space) - so a long batch does not grow memory without bound. Punching
 *    also unmaps those pages from the workers.
 *  - Lifetime is a reference count (parent-private, under a mutex so that images may be freed
 *    from any thread): the creator (the context) holds one and every live block holds one.
 *    When the last goes, the mapping is unmapped and the memfd closed; so an image may outlive
 *    the context that made it.
 *  - A process that inherited the arena through a caller's fork() is not its owner: there,
 *    allocation fails, frees only drop references, and nothing is punched (punching would wipe
 *    the real owner's pixels).
 *  - A free of a range that is not allocated (double free, foreign pointer) is ignored and
 *    keeps its reference: leaking a block is better than unmapping memory still in use.
 */
#define _GNU_SOURCE
#include "fork_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define GIB ((size_t)1 << 30)
#define ARENA_MIN_SIZE GIB
#define ARENA_MAX_SIZE ((size_t)1 << 40)
#define KEEP_MIN ((size_t)256 << 20) /* freed memory kept resident for reuse, at least */
#define RECENT 16                    /* allocations remembered for the keep limit */

/* A range of the arena; `stamp` orders dirty ranges by age (unused in the free list). */
typedef struct range {
    size_t off, len;
    uint64_t stamp;
} range;

/* A sorted array of disjoint ranges. */
typedef struct rlist {
    range *v;
    size_t n, cap;
} rlist;

struct pp_arena {
    pthread_mutex_t lock; /* guards everything below except the constant fields */
    /* constant after creation */
    int fd;
    uint8_t *base;
    size_t size;     /* mapped bytes */
    size_t reserved; /* [0, reserved) is the control block, never allocated */
    size_t page;
    pid_t owner;
    /* mutable */
    long refs;
    rlist free;  /* free ranges: sorted, disjoint, never adjacent */
    rlist dirty; /* free ranges that may be resident: sorted, disjoint, inside free ranges */
    size_t dirty_bytes;
    uint64_t clock;
    size_t recent[RECENT];
    unsigned recent_i;
    size_t in_use, peak, punched;
};

/* ---- range lists -------------------------------------------------------------------------- */

static bool rl_insert(rlist *l, size_t i, range r)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        range *v = realloc(l->v, cap * sizeof *v);
        if (!v) return false;
        l->v = v;
        l->cap = cap;
    }
    memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof *l->v);
    l->v[i] = r;
    l->n++;
    return true;
}

static void rl_remove(rlist *l, size_t i)
{
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
    l->n--;
}

/* Index of the first range whose offset is greater than off. */
static size_t rl_upper(const rlist *l, size_t off)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid].off <= off) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* ---- giving memory back ------------------------------------------------------------------- */

static size_t keep_limit(const struct pp_arena *a)
{
    size_t lim = KEEP_MIN;
    for (int i = 0; i < RECENT; i++)
        if (a->recent[i] > lim) lim = a->recent[i];
    return lim;
}

/* Punches the whole pages around [off, off + len) that lie entirely in free space. */
static void punch(struct pp_arena *a, size_t off, size_t len)
{
    if (a->owner != getpid()) return;
    size_t i = rl_upper(&a->free, off);
    if (i == 0) return; /* not inside a free range: a bookkeeping bug; punch nothing */
    const range *f = &a->free.v[i - 1];
    size_t fend = f->off + f->len;
    if (off + len > fend) return;
    size_t lo = off / a->page * a->page;
    if (lo < f->off) lo += a->page;
    size_t hi = (off + len + a->page - 1) / a->page * a->page;
    if (hi > fend) hi -= a->page;
    if (hi <= lo) return;
    if (fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)lo, (off_t)(hi - lo)) ==
        0)
        a->punched += hi - lo;
}

/* Removes [off, off + n) (just allocated) from the dirty list. */
static void dirty_cut(struct pp_arena *a, size_t off, size_t n)
{
    rlist *d = &a->dirty;
    size_t end = off + n;
    size_t i = rl_upper(d, off);
    if (i > 0 && d->v[i - 1].off + d->v[i - 1].len > off) i--;
    while (i < d->n && d->v[i].off < end) {
        range r = d->v[i];
        size_t rend = r.off + r.len;
        size_t left = r.off < off ? off - r.off : 0;
        size_t right = rend > end ? rend - end : 0;
        a->dirty_bytes -= r.len - left - right;
        if (left && right) {
            d->v[i].len = left;
            if (!rl_insert(d, i + 1, (range){end, right, r.stamp}))
                a->dirty_bytes -= right; /* forget it: at worst it stays resident */
            return;
        }
        if (left) {
            d->v[i].len = left;
            i++;
        } else if (right) {
            d->v[i].off = end;
            d->v[i].len = right;
            return;
        } else {
            rl_remove(d, i);
        }
    }
}

/* Records [off, off + n) (just freed) as dirty, then punches the oldest dirty ranges while
   more than the keep limit is dirty. */
static void dirty_add(struct pp_arena *a, size_t off, size_t n)
{
    rlist *d = &a->dirty;
    uint64_t stamp = ++a->clock;
    size_t i = rl_upper(d, off);
    bool prev = i > 0 && d->v[i - 1].off + d->v[i - 1].len == off;
    bool next = i < d->n && off + n == d->v[i].off;
    if (prev && next) {
        d->v[i - 1].len += n + d->v[i].len;
        d->v[i - 1].stamp = stamp;
        rl_remove(d, i);
    } else if (prev) {
        d->v[i - 1].len += n;
        d->v[i - 1].stamp = stamp;
    } else if (next) {
        d->v[i].off = off;
        d->v[i].len += n;
        d->v[i].stamp = stamp;
    } else if (!rl_insert(d, i, (range){off, n, stamp})) {
        punch(a, off, n); /* cannot track it: give it back at once */
        return;
    }
    a->dirty_bytes += n;
    size_t lim = keep_limit(a);
    while (a->dirty_bytes > lim && d->n > 0) {
        size_t old = 0;
        for (size_t j = 1; j < d->n; j++)
            if (d->v[j].stamp < d->v[old].stamp) old = j;
        range *r = &d->v[old];
        /* Punch only the excess, from the high end (first fit reuses low addresses first),
           cut at a page boundary; the whole range when it is not larger than the excess. */
        size_t excess = a->dirty_bytes - lim;
        size_t end = r->off + r->len;
        size_t cut = excess < r->len ? (end - excess) / a->page * a->page : r->off;
        if (cut <= r->off) {
            range gone = *r;
            rl_remove(d, old);
            a->dirty_bytes -= gone.len;
            punch(a, gone.off, gone.len);
        } else {
            r->len = cut - r->off;
            a->dirty_bytes -= end - cut;
            punch(a, cut, end - cut);
        }
    }
}

/* ---- allocation --------------------------------------------------------------------------- */

void *pp_arena_alloc(struct pp_arena *a, size_t bytes)
{
    if (!a) return NULL;
    size_t n = (bytes + PP_ALIGN - 1) & ~(size_t)(PP_ALIGN - 1);
    if (n < bytes) return NULL;
    if (n == 0) n = PP_ALIGN;
    void *p = NULL;
    pthread_mutex_lock(&a->lock);
    if (a->owner == getpid()) {
        rlist *f = &a->free;
        for (size_t i = 0; i < f->n; i++) {
            if (f->v[i].len < n) continue;
            size_t off = f->v[i].off;
            f->v[i].off += n;
            f->v[i].len -= n;
            if (f->v[i].len == 0) rl_remove(f, i);
            dirty_cut(a, off, n);
            a->in_use += n;
            if (a->in_use > a->peak) a->peak = a->in_use;
            a->recent[a->recent_i++ % RECENT] = n;
            a->refs++;
            p = a->base + off;
            break;
        }
    }
    pthread_mutex_unlock(&a->lock);
    return p;
}

/* Returns a block to the free list; false when [off, off + n) is not an allocated block. */
static bool free_block(struct pp_arena *a, size_t off, size_t n)
{
    if (off < a->reserved || off % PP_ALIGN != 0 || off >= a->size || n > a->size - off)
        return false;
    rlist *f = &a->free;
    size_t i = rl_upper(f, off);
    if (i > 0 && f->v[i - 1].off + f->v[i - 1].len > off) return false; /* overlaps: not ours */
    if (i < f->n && off + n > f->v[i].off) return false;
    bool prev = i > 0 && f->v[i - 1].off + f->v[i - 1].len == off;
    bool next = i < f->n && off + n == f->v[i].off;
    if (prev && next) {
        f->v[i - 1].len += n + f->v[i].len;
        rl_remove(f, i);
    } else if (prev) {
        f->v[i - 1].len += n;
    } else if (next) {
        f->v[i].off = off;
        f->v[i].len += n;
    } else if (!rl_insert(f, i, (range){off, n, 0})) {
        /* Out of heap for the list: the block is lost to the arena (but not leaked to the
           system: the arena goes away with its last reference). */
        a->in_use -= n;
        return true;
    }
    a->in_use -= n;
    dirty_add(a, off, n);
    return true;
}

static void arena_destroy(struct pp_arena *a)
{
    munmap(a->base, a->size);
    close(a->fd);
    free(a->free.v);
    free(a->dirty.v);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

void pp_arena_release(struct pp_arena *a, void *ptr, size_t bytes)
{
    if (!a || !ptr) return;
    size_t n = (bytes + PP_ALIGN - 1) & ~(size_t)(PP_ALIGN - 1);
    if (n == 0) n = PP_ALIGN;
    pthread_mutex_lock(&a->lock);
    bool ok = (uint8_t *)ptr >= a->base && (uint8_t *)ptr < a->base + a->size;
    if (ok && a->owner == getpid()) ok = free_block(a, (size_t)((uint8_t *)ptr - a->base), n);
    bool dead = false;
    if (ok) dead = --a->refs == 0;
    pthread_mutex_unlock(&a->lock);
    if (dead) arena_destroy(a);
}

void pp_arena_unref(struct pp_arena *a)
{
    if (!a) return;
    pthread_mutex_lock(&a->lock);
    bool dead = --a->refs == 0;
    pthread_mutex_unlock(&a->lock);
    if (dead) arena_destroy(a);
}

/* ---- creation ----------------------------------------------------------------------------- */

static size_t default_size(void)
{
    struct sysinfo si;
    uint64_t total = 0;
    if (sysinfo(&si) == 0) total = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
    if (total == 0) total = (uint64_t)64 * GIB;
    total = (total + GIB - 1) / GIB * GIB;
    if (total < ARENA_MIN_SIZE) total = ARENA_MIN_SIZE;
    if (total > ARENA_MAX_SIZE) total = ARENA_MAX_SIZE;
    return (size_t)total;
}

pp_status pp_arena_create(pp_ctx *ctx, size_t reserve, struct pp_arena **out)
{
    *out = NULL;
    struct pp_arena *a = calloc(1, sizeof *a);
    if (!a) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    long pg = sysconf(_SC_PAGESIZE);
    a->page = pg > 0 ? (size_t)pg : 4096;
    a->reserved = (reserve + a->page - 1) / a->page * a->page;
    a->fd = memfd_create("pixpool-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (a->fd < 0) {
        int e = errno;
        free(a);
        return pp_fail(ctx, PP_ERR_BACKEND,
                       "fork backend: cannot create the shared arena: memfd_create: %s",
                       strerror(e));
    }
    int err = 0;
    const char *what = "mmap";
    for (size_t size = default_size(); size >= ARENA_MIN_SIZE / 4; size /= 2) {
        if (ftruncate(a->fd, (off_t)size) != 0) {
            err = errno;
            what = "ftruncate";
            continue;
        }
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, a->fd, 0);
        if (p == MAP_FAILED) {
            err = errno;
            what = "mmap";
            continue;
        }
        a->base = p;
        a->size = size;
        break;
    }
    if (!a->base || a->reserved >= a->size) {
        if (a->base) munmap(a->base, a->size);
        close(a->fd);
        free(a);
        return pp_fail(ctx, PP_ERR_BACKEND,
                       "fork backend: cannot map the shared arena: %s: %s", what,
                       strerror(err ? err : ENOMEM));
    }
    /* The size never changes again: a worker could not follow a remap. */
    (void)fcntl(a->fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
    pthread_mutex_init(&a->lock, NULL);
    a->owner = getpid();
    a->refs = 1;
    if (!rl_insert(&a->free, 0, (range){a->reserved, a->size - a->reserved, 0})) {
        arena_destroy(a);
        return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    }
    *out = a;
    return PP_OK;
}

/* ---- queries ------------------------------------------------------------------------------ */

void *pp_arena_reserved(struct pp_arena *a) { return a->base; }

bool pp_arena_contains(const struct pp_arena *a, const void *ptr, size_t len)
{
    if (!a || !ptr) return false;
    const uint8_t *p = ptr;
    if (p < a->base + a->reserved || p > a->base + a->size) return false;
    return len <= (size_t)(a->base + a->size - p);
}

pid_t pp_arena_owner(const struct pp_arena *a) { return a->owner; }

void pp_arena_get_stats(struct pp_arena *a, pp_arena_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!a) return;
    pthread_mutex_lock(&a->lock);
    out->size = a->size;
    out->reserved = a->reserved;
    out->in_use = a->in_use;
    out->peak_in_use = a->peak;
    out->free_resident = a->dirty_bytes;
    out->keep_limit = keep_limit(a);
    out->punched = a->punched;
    out->refs = a->refs;
    out->nfree = (int)a->free.n;
    pthread_mutex_unlock(&a->lock);
}
