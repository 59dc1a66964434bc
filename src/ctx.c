/*
 * ctx.c - the context (settings, limits) and the version. Status texts and the last error are
 * error.c's; what an executor keeps for a context it tears down itself (pp_executors_teardown).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *pp_version(void) { return PP_VERSION_STRING; }

int pp_cpu_count(void) { return pp_online_cpus(); }

/* ---- the default memory limit ------------------------------------------------------------ */

#define GIB ((uint64_t)1 << 30)
#define MEMORY_CAP (16 * GIB)     /* the default never exceeds this */
#define MEMORY_FLOOR ((uint64_t)256 << 20)
#define MEMORY_UNKNOWN (4 * GIB)  /* when the machine's memory cannot be read */

/* A byte count from a cgroup file ("max" or a number); 0 when absent or unlimited. */
static uint64_t cgroup_limit(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    unsigned long long v = 0;
    int ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    return ok ? (uint64_t)v : 0;
}

static uint64_t default_max_memory;

/* min(usable memory / 2, 16 GiB), usable memory being the physical RAM or, when smaller, the
   memory limit of the cgroup (v2 memory.max, v1 memory.limit_in_bytes; a cgroup mounted at
   the usual place, as in a container) - and at least 256 MiB. Computed once per process. */
static void compute_default_max_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t total = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    const char *const files[] = {"/sys/fs/cgroup/memory.max",
                                 "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (int i = 0; i < 2; i++) {
        uint64_t lim = cgroup_limit(files[i]);
        if (lim > 0 && (total == 0 || lim < total)) total = lim;
    }
    uint64_t v = total ? total / 2 : MEMORY_UNKNOWN;
    if (v > MEMORY_CAP) v = MEMORY_CAP;
    if (v < MEMORY_FLOOR) v = MEMORY_FLOOR;
    default_max_memory = v;
}

uint64_t pp_default_max_memory(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, compute_default_max_memory);
    return default_max_memory;
}

pp_ctx *pp_ctx_new(void)
{
    pp_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->backend = PP_BACKEND_OPENMP;
    ctx->workers = 0;
    ctx->auto_workers = pp_cpu_budget(NULL, 0);
    ctx->band_rows = 0;
    ctx->max_pixels = (uint64_t)1 << 30;
    ctx->max_memory = pp_default_max_memory();
    ctx->png_level = 5;
    ctx->jpeg_quality = 90;
    ctx->jpeg_subsample = PP_SUBSAMPLE_AUTO;
    return ctx;
}

void pp_ctx_free(pp_ctx *ctx)
{
    if (!ctx) return;
    pp_executors_teardown(ctx); /* worker pool, shared arena, heap, scratch */
    free(ctx);
}

pp_status pp_ctx_set_backend(pp_ctx *ctx, pp_backend backend)
{
    if (!ctx) return PP_ERR_INVALID;
    if (!pp_executor_for(backend))
        return pp_fail(ctx, PP_ERR_INVALID, "unknown backend %d", (int)backend);
    ctx->backend = backend;
    return PP_OK;
}

pp_backend pp_ctx_backend(const pp_ctx *ctx) { return ctx->backend; }

pp_status pp_ctx_set_workers(pp_ctx *ctx, int workers)
{
    if (!ctx) return PP_ERR_INVALID;
    if (workers < 0 || workers > 1024)
        return pp_fail(ctx, PP_ERR_INVALID, "workers must be 0 (all CPUs) to 1024, not %d", workers);
    ctx->workers = workers;
    return PP_OK;
}

int pp_ctx_workers(const pp_ctx *ctx) { return pp_workers_setting(ctx); }

pp_status pp_ctx_set_progress(pp_ctx *ctx, pp_progress_fn fn, void *user)
{
    if (!ctx) return PP_ERR_INVALID;
    ctx->progress = fn;
    ctx->progress_user = user;
    return PP_OK;
}

pp_status pp_ctx_set_band_rows(pp_ctx *ctx, int rows)
{
    if (!ctx) return PP_ERR_INVALID;
    if (rows < 0) return pp_fail(ctx, PP_ERR_INVALID, "band rows must be >= 0, not %d", rows);
    ctx->band_rows = rows;
    return PP_OK;
}

pp_status pp_ctx_set_max_pixels(pp_ctx *ctx, uint64_t max_pixels)
{
    if (!ctx) return PP_ERR_INVALID;
    if (max_pixels == 0) return pp_fail(ctx, PP_ERR_INVALID, "max pixels must be positive");
    ctx->max_pixels = max_pixels;
    return PP_OK;
}

uint64_t pp_ctx_max_pixels(const pp_ctx *ctx) { return ctx->max_pixels; }

pp_status pp_ctx_set_max_memory(pp_ctx *ctx, uint64_t bytes)
{
    if (!ctx) return PP_ERR_INVALID;
    if (bytes == 0) return pp_fail(ctx, PP_ERR_INVALID, "max memory must be positive");
    ctx->max_memory = bytes;
    return PP_OK;
}

uint64_t pp_ctx_max_memory(const pp_ctx *ctx) { return ctx->max_memory; }

pp_status pp_ctx_set_png_level(pp_ctx *ctx, int level)
{
    if (!ctx) return PP_ERR_INVALID;
    if (level < 0 || level > 9)
        return pp_fail(ctx, PP_ERR_INVALID, "PNG compression level must be 0..9, not %d", level);
    ctx->png_level = level;
    return PP_OK;
}

pp_status pp_ctx_set_jpeg_quality(pp_ctx *ctx, int quality)
{
    if (!ctx) return PP_ERR_INVALID;
    if (quality < 1 || quality > 100)
        return pp_fail(ctx, PP_ERR_INVALID, "JPEG quality must be 1..100, not %d", quality);
    ctx->jpeg_quality = quality;
    return PP_OK;
}

pp_status pp_ctx_set_jpeg_subsample(pp_ctx *ctx, pp_jpeg_subsample mode)
{
    if (!ctx) return PP_ERR_INVALID;
    if (mode != PP_SUBSAMPLE_AUTO && mode != PP_SUBSAMPLE_444 && mode != PP_SUBSAMPLE_422 &&
        mode != PP_SUBSAMPLE_420)
        return pp_fail(ctx, PP_ERR_INVALID, "unknown JPEG subsampling mode %d", (int)mode);
    ctx->jpeg_subsample = mode;
    return PP_OK;
}

pp_status pp_ctx_set_jpeg_progressive(pp_ctx *ctx, int on)
{
    if (!ctx) return PP_ERR_INVALID;
    ctx->jpeg_progressive = on != 0;
    return PP_OK;
}

pp_status pp_ctx_set_tiff_compression(pp_ctx *ctx, pp_tiff_compression mode)
{
    if (!ctx) return PP_ERR_INVALID;
    if ((int)mode < PP_TIFF_NONE || (int)mode > PP_TIFF_PACKBITS)
        return pp_fail(ctx, PP_ERR_INVALID, "TIFF compression %d is not one of none, lzw, "
                       "deflate, packbits", (int)mode);
    ctx->tiff_compression = mode;
    return PP_OK;
}

pp_status pp_ctx_set_save_depth(pp_ctx *ctx, int depth)
{
    if (!ctx) return PP_ERR_INVALID;
    if (depth != 0 && depth != 8 && depth != 16)
        return pp_fail(ctx, PP_ERR_INVALID, "save depth %d is not 0 (the image's), 8 or 16",
                       depth);
    ctx->save_depth = depth;
    return PP_OK;
}

pp_status pp_ctx_set_jpeg_optimize(pp_ctx *ctx, int on)
{
    if (!ctx) return PP_ERR_INVALID;
    ctx->jpeg_optimize = on != 0;
    return PP_OK;
}

