/*
 * exec.c - what all executors share (band geometry, per-worker scratch) and the serial executor.
 *
 * Band boundaries come from pp_band_count/pp_stage_band_rows only, so a stage is cut the same
 * way whichever executor runs it. Kernels write disjoint output rows per band and read only
 * their inputs, so the order bands run in cannot change the result: the executors are free to
 * schedule bands as they like and still give bit-identical output.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

const pp_executor *pp_executor_for(pp_backend backend)
{
    switch (backend) {
    case PP_BACKEND_SERIAL: return &pp_exec_serial;
    case PP_BACKEND_FORK: return &pp_exec_fork;
    case PP_BACKEND_OPENMP:
    default: return &pp_exec_openmp;
    }
}

int pp_band_count(int rows, int band_rows)
{
    if (rows <= 0) return 0;
    if (band_rows <= 0) band_rows = rows;
    return (int)(((int64_t)rows + band_rows - 1) / band_rows);
}

int pp_stage_band_rows(const pp_ctx *ctx, const pp_stage *st, int workers)
{
    if (st->serial) return st->rows > 0 ? st->rows : 1;
    if (st->band_rows > 0) return st->band_rows;
    if (ctx->band_rows > 0) return ctx->band_rows;
    if (workers <= 1) return st->rows > 0 ? st->rows : 1; /* one band: no halo recomputed */
    /* Up to 4 bands per worker for load balance, but fewer (down to one per worker) when the
       bands would be thinner than the kernel's min_band_rows: a stencil recomputes its halo in
       every band, so thin bands waste work. The count stays a multiple of the workers. */
    int k = 4, br;
    for (;;) {
        br = (int)(((int64_t)st->rows + (int64_t)workers * k - 1) / ((int64_t)workers * k));
        if (k == 1 || br >= st->min_band_rows) break;
        k--;
    }
    if (br < 8) br = 8;
    return br;
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

static pp_status serial_run(pp_ctx *ctx, const pp_stage *st)
{
    size_t stride;
    uint8_t *scratch = pp_scratch(ctx, st->scratch_bytes, 1, &stride);
    if (!scratch) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory for kernel scratch");
    int br = pp_stage_band_rows(ctx, st, 1);
    int nb = pp_band_count(st->rows, br);
    for (int b = 0; b < nb; b++) {
        int y0 = b * br, y1 = y0 + br < st->rows ? y0 + br : st->rows;
        st->kernel(st, y0, y1, b, scratch);
    }
    return PP_OK;
}

const pp_executor pp_exec_serial = {"serial", serial_run, pp_heap_alloc, pp_heap_free,
                                    pp_heap_can_see};
