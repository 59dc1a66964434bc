/*
 * exec_openmp.c - the OpenMP executor: a parallel-for over a stage's bands.
 *
 * Dynamic scheduling, one band at a time; the thread count is the context's and is passed with
 * num_threads, so the caller's own OpenMP settings (omp_set_num_threads) are never touched.
 * Each thread gets its own slice of scratch, indexed by omp_get_thread_num().
 */
#include "internal.h"

#include <omp.h>

static int openmp_workers(const pp_ctx *ctx) { return pp_workers_setting(ctx); }

static pp_status openmp_run(pp_ctx *ctx, const pp_stage *st)
{
    int workers = pp_workers_setting(ctx);
    int br = pp_stage_band_rows(ctx, st, workers);
    int nb = pp_band_count(st->rows, br);
    int nt = workers < nb ? workers : nb;
    if (nt < 1) nt = 1;
    size_t stride;
    uint8_t *scratch = pp_scratch(ctx, st->scratch_bytes, nt, &stride);
    if (!scratch) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory for kernel scratch");
    const int rows = st->rows;
    pp_status s = pp_progress_report(ctx, 0, nb);
    if (s) return s;
    if (!ctx->progress) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int b = 0; b < nb; b++) {
            int y0 = b * br, y1 = y0 + br < rows ? y0 + br : rows;
            st->kernel(st, y0, y1, b, scratch + (size_t)omp_get_thread_num() * stride);
        }
        return PP_OK;
    }
    /* with a callback: thread 0 (the calling thread) reports after each of its bands; once
       it asks to stop, no thread starts another band */
    int done = 0, stop = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (int b = 0; b < nb; b++) {
        int halt;
#pragma omp atomic read
        halt = stop;
        if (halt) continue;
        int y0 = b * br, y1 = y0 + br < rows ? y0 + br : rows;
        st->kernel(st, y0, y1, b, scratch + (size_t)omp_get_thread_num() * stride);
        int now;
#pragma omp atomic capture
        now = ++done;
        if (omp_get_thread_num() == 0 && now < nb &&
            ctx->progress(ctx->progress_user, now, nb) != 0) {
#pragma omp atomic write
            stop = 1;
        }
    }
    if (stop)
        return pp_fail(ctx, PP_ERR_INTERRUPTED, "interrupted by the progress callback (%d of %d "
                       "bands of a stage done)", done, nb);
    return pp_progress_report(ctx, nb, nb);
}

const pp_executor pp_exec_openmp = {"openmp", openmp_run, openmp_workers, pp_heap_alloc,
                                    pp_heap_can_see, pp_heap_teardown};
