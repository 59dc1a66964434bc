/*
 * exec_fork.c - PLACEHOLDER until the fork pool lands: runs bands serially on heap memory.
 */
#include "internal.h"

void *pp_heap_alloc(pp_ctx *ctx, size_t bytes);
void pp_heap_free(pp_ctx *ctx, void *ptr, size_t bytes);
bool pp_heap_can_see(pp_ctx *ctx, const void *ptr);

void pp_fork_pool_destroy(pp_ctx *ctx) { (void)ctx; }
void pp_arena_release(struct pp_arena *arena, void *ptr, size_t bytes) { (void)arena; (void)ptr; (void)bytes; }

static pp_status fork_run(pp_ctx *ctx, const pp_stage *st) { return pp_exec_serial.run(ctx, st); }

const pp_executor pp_exec_fork = {"fork", fork_run, pp_heap_alloc, pp_heap_free, pp_heap_can_see};
