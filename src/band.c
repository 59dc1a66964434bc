/*
 * band.c - band geometry: how a stage's rows are cut into bands.
 *
 * Band boundaries come from pp_band_count/pp_stage_band_rows only, so a stage is cut the same
 * way whichever executor runs it. Kernels write disjoint output rows per band and read only
 * their inputs, so the order bands run in cannot change the result: the executors are free to
 * schedule bands as they like and still give bit-identical output. Filters that reduce
 * (histograms) fix their band height and use pp_band_count to size their partial slots.
 */
#include "internal.h"

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
