/*
 * exec.c - the serial executor, and the table of executors: which one a backend names, and the
 * teardown of what they keep for a context.
 *
 * Band geometry is band.c's and the thread executors' memory heap.c's, so the executors share
 * no code with each other through this file (exec_openmp.c and exec_fork.c call nothing here).
 */
#include "internal.h"

/* Every executor, by the backend that names it: a new executor is a file exec_NAME.c and a row
   here. */
static const pp_executor *const executors[] = {
    [PP_BACKEND_SERIAL] = &pp_exec_serial,
    [PP_BACKEND_OPENMP] = &pp_exec_openmp,
    [PP_BACKEND_FORK] = &pp_exec_fork,
};
#define NEXECUTORS (sizeof executors / sizeof executors[0])

const pp_executor *pp_executor_for(pp_backend backend)
{
    return (unsigned)backend < NEXECUTORS ? executors[backend] : NULL;
}

void pp_executors_teardown(pp_ctx *ctx)
{
    for (size_t i = NEXECUTORS; i-- > 0;) /* fork first: its pool before the heap */
        if (executors[i]) executors[i]->teardown(ctx);
}

const pp_executor *pp_executor_local(void) { return &pp_exec_serial; }

static int serial_workers(const pp_ctx *ctx)
{
    (void)ctx;
    return 1;
}

static pp_status serial_run(pp_ctx *ctx, const pp_stage *st)
{
    size_t stride;
    uint8_t *scratch = pp_scratch(ctx, st->scratch_bytes, 1, &stride);
    if (!scratch) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory for kernel scratch");
    int br = pp_stage_band_rows(ctx, st, 1);
    int nb = pp_band_count(st->rows, br);
    for (int b = 0; b < nb; b++) {
        pp_status s = pp_progress_report(ctx, b, nb);
        if (s) return s;
        int y0 = b * br, y1 = y0 + br < st->rows ? y0 + br : st->rows;
        st->kernel(st, y0, y1, b, scratch);
    }
    return pp_progress_report(ctx, nb, nb);
}

const pp_executor pp_exec_serial = {"serial", serial_run, serial_workers, pp_heap_alloc,
                                    pp_heap_can_see, pp_heap_teardown};
