/*
 * exec.c - the serial executor, and the table of executors: which one a backend names, and the
 * teardown of what they keep for a context.
 *
 * Band geometry is band.c's and the thread executors' memory heap.c's, so the executors share
 * no code with each other through this file (exec_openmp.c and exec_fork.c call nothing here).
 */
#include "internal.h"

const pp_executor *pp_executor_for(pp_backend backend)
{
    switch (backend) {
    case PP_BACKEND_SERIAL: return &pp_exec_serial;
    case PP_BACKEND_FORK: return &pp_exec_fork;
    case PP_BACKEND_OPENMP:
    default: return &pp_exec_openmp;
    }
}

void pp_executors_teardown(pp_ctx *ctx)
{
    static const pp_executor *const all[] = {&pp_exec_fork, &pp_exec_openmp, &pp_exec_serial};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) all[i]->teardown(ctx);
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
        int y0 = b * br, y1 = y0 + br < st->rows ? y0 + br : st->rows;
        st->kernel(st, y0, y1, b, scratch);
    }
    return PP_OK;
}

const pp_executor pp_exec_serial = {"serial", serial_run, serial_workers, pp_heap_alloc,
                                    pp_heap_can_see, pp_heap_teardown};
