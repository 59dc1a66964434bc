/*
 * test_progress.c - the progress / cancel callback (pp_ctx_set_progress) from every executor:
 * called on the calling thread of the calling process, bands done never above the total, the
 * output unchanged by it; a non-zero return stops the call with PP_ERR_INTERRUPTED (no output,
 * no file) and the context works again afterwards, with the same bytes.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pixpool.h"

enum { W = 256, H = 512 };
#define SPEC "gaussian:sigma=2"

typedef struct {
    pthread_t thread;
    pid_t pid;
    int calls, wrong_thread, bad_counts, saw_start, saw_end;
    int cancel_at;  /* 0: never; else return 1 on the first call with done >= cancel_at */
    int cancelled;  /* calls made after the callback asked to stop */
    int after_stop; /* ... which must be none within that call */
} watch;

static int on_progress(void *user, int done, int total)
{
    watch *w = user;
    w->calls++;
    if (!pthread_equal(pthread_self(), w->thread) || getpid() != w->pid) w->wrong_thread++;
    if (done < 0 || total < 1 || done > total) w->bad_counts++;
    if (done == 0) w->saw_start = 1;
    if (done == total) w->saw_end = 1;
    if (w->cancelled) w->after_stop++;
    if (w->cancel_at && done >= w->cancel_at) {
        w->cancelled = 1;
        return 1;
    }
    return 0;
}

static pp_image *pattern(pp_ctx *ctx)
{
    pp_image *im;
    cr_assert_eq(pp_image_new(ctx, W, H, 3, &im), PP_OK);
    uint8_t *d = pp_image_data(im);
    for (size_t i = 0; i < (size_t)W * H * 3; i++) d[i] = (uint8_t)(i * 2654435761u >> 13);
    return im;
}

static pp_ctx *make(pp_backend b)
{
    pp_ctx *ctx = pp_ctx_new();
    cr_assert_not_null(ctx);
    cr_assert_eq(pp_ctx_set_backend(ctx, b), PP_OK);
    pp_ctx_set_workers(ctx, 2);
    pp_ctx_set_band_rows(ctx, 8); /* 64 bands a stage: many chances to report and stop */
    return ctx;
}

static void check_backend(pp_backend b)
{
    pp_ctx *ref_ctx = make(PP_BACKEND_SERIAL);
    pp_image *in0 = pattern(ref_ctx), *ref = NULL;
    cr_assert_eq(pp_apply(ref_ctx, SPEC, in0, &ref), PP_OK);

    pp_ctx *ctx = make(b);
    pp_image *in = pattern(ctx), *out = NULL;
    watch w = {.thread = pthread_self(), .pid = getpid()};
    cr_assert_eq(pp_ctx_set_progress(ctx, on_progress, &w), PP_OK);
    cr_assert_eq(pp_apply(ctx, SPEC, in, &out), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_gt(w.calls, 0);
    cr_assert_eq(w.wrong_thread, 0, "%d calls off the calling thread", w.wrong_thread);
    cr_assert_eq(w.bad_counts, 0);
    cr_assert(w.saw_start && w.saw_end);
    cr_assert_eq(memcmp(pp_image_data(out), pp_image_data(ref), (size_t)W * H * 3), 0,
                 "a callback changed the output");
    pp_image_free(out);
    out = NULL;

    /* stop once a band is done: the call fails, nothing comes out */
    w = (watch){.thread = pthread_self(), .pid = getpid(), .cancel_at = 1};
    cr_assert_eq(pp_apply(ctx, SPEC, in, &out), PP_ERR_INTERRUPTED);
    cr_assert_null(out);
    cr_assert(strstr(pp_ctx_last_error(ctx), "interrupted"), "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(w.after_stop, 0, "called %d times after asking to stop", w.after_stop);
    cr_assert_eq(w.wrong_thread, 0);

    /* stop at once: before any band */
    w = (watch){.thread = pthread_self(), .pid = getpid(), .cancel_at = -1000};
    cr_assert_eq(pp_apply(ctx, SPEC, in, &out), PP_ERR_INTERRUPTED);
    cr_assert_eq(w.calls, 1);

    /* the encoder stops too, and no file is left */
    char dir[] = "/tmp/pp-test-progress-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/o.png", dir);
    w = (watch){.thread = pthread_self(), .pid = getpid(), .cancel_at = -1000};
    cr_assert_eq(pp_save(ctx, in, path), PP_ERR_INTERRUPTED);
    cr_assert_neq(access(path, F_OK), 0, "an interrupted save left %s", path);
    rmdir(dir);

    /* the context works again, with the same bytes */
    pp_ctx_set_progress(ctx, NULL, NULL);
    cr_assert_eq(pp_apply(ctx, SPEC, in, &out), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(memcmp(pp_image_data(out), pp_image_data(ref), (size_t)W * H * 3), 0);
    pp_image_free(out);
    pp_image_free(in);
    pp_image_free(in0);
    pp_image_free(ref);
    pp_ctx_free(ctx);
    pp_ctx_free(ref_ctx);
}

Test(progress, serial) { check_backend(PP_BACKEND_SERIAL); }
Test(progress, openmp) { check_backend(PP_BACKEND_OPENMP); }
Test(progress, fork) { check_backend(PP_BACKEND_FORK); }
