/*
 * fork_internal.h - what the fork executor (exec_fork.c), its shared arena (arena.c) and their
 * tests share; nothing else in the library needs it.
 *
 * Layers, bottom up (see docs/FORK.md):
 *  - arena.c: the lifetime of one shared-memory segment (memfd + one MAP_SHARED mapping made in
 *    the parent before any worker is forked) and a parent-private allocator of 64-byte aligned
 *    blocks inside it. The first `reserve` bytes are kept for the pool's control block.
 *  - exec_fork.c: the control block in that reserved area, the worker processes and the
 *    parent's orchestration (dispatch a stage, wait for it, notice dead workers).
 */
#ifndef PP_FORK_INTERNAL_H
#define PP_FORK_INTERNAL_H

#include "internal.h"

#include <sys/types.h>

/* ---- arena (arena.c) --------------------------------------------------------------------- */

/* Creates an arena of a generous virtual size (physical RAM + swap, clamped to 1 GiB..1 TiB;
   smaller when the mapping fails) whose first `reserve` bytes (rounded up to a page) are never
   handed out. The new arena holds one reference, owned by the caller. Returns PP_ERR_BACKEND
   with a message on ctx when the memfd or the mapping cannot be made. */
pp_status pp_arena_create(pp_ctx *ctx, size_t reserve, struct pp_arena **out);

/* A block of at least `bytes` bytes, aligned to PP_ALIGN, taking one reference on the arena;
   NULL when the arena has no free range that large (or it was inherited through fork()). The
   block's contents are undefined. Only the process that created the arena allocates. */
void *pp_arena_alloc(struct pp_arena *arena, size_t bytes);

/* Drops the reference of the caller that created the arena (the context's). */
void pp_arena_unref(struct pp_arena *arena);

/* The reserved area at offset 0 (the control block), and the mapping's bounds. */
void *pp_arena_reserved(struct pp_arena *arena);
/* true when [ptr, ptr + len) lies inside the arena's allocatable part. */
bool pp_arena_contains(const struct pp_arena *arena, const void *ptr, size_t len);
/* The process that created the arena (only it may allocate, free or punch holes). */
pid_t pp_arena_owner(const struct pp_arena *arena);

typedef struct pp_arena_stats {
    size_t size;          /* mapped bytes */
    size_t reserved;      /* bytes at the start kept for the control block */
    size_t in_use;        /* bytes in allocated blocks */
    size_t peak_in_use;
    size_t free_resident; /* freed bytes kept resident for reuse (not punched yet) */
    size_t keep_limit;    /* current bound on free_resident */
    size_t punched;       /* total bytes given back with FALLOC_FL_PUNCH_HOLE */
    long refs;            /* references: the creator's plus one per live block */
    int nfree;            /* ranges in the free list */
} pp_arena_stats;

void pp_arena_get_stats(struct pp_arena *arena, pp_arena_stats *out);

/* ---- pool (exec_fork.c) ------------------------------------------------------------------ */

/* Pids of the live workers of the context's pool (up to max); returns how many there are
   (0 when no pool runs). For tests and diagnostics. */
int pp_fork_worker_pids(const pp_ctx *ctx, pid_t *pids, int max);

#endif /* PP_FORK_INTERNAL_H */
