/*
 * example_fork_pipeline.c - run one pipeline over several images with the fork backend: a
 * persistent pool of worker processes that share the pixels through shared memory.
 *
 *   example_fork_pipeline OUTDIR IMAGE...
 *
 * Writes OUTDIR/<name>.fork.png for every IMAGE and checks that each result is byte-identical to
 * the serial backend's. Shows: building a pipeline from spec strings and from typed parameters,
 * choosing the backend and the worker count, reusing the pool across calls, and what to do
 * when a worker dies (PP_ERR_WORKER: the next call starts a fresh pool, so retry once).
 * Exit status 0 on success, 1 on any failure.
 */
#include <pixpool.h>

#include <stdio.h>
#include <string.h>

/* Builds the demo pipeline: colour, spatial and geometry filters. */
static pp_status build_pipeline(pp_ctx *ctx, pp_pipeline **out)
{
    pp_pipeline *pipe = NULL;
    pp_status st = pp_pipeline_new(ctx, &pipe);
    if (st) return st;
    static const char *const specs[] = {"gamma:g=1.4", "median:radius=2",
                                        "unsharp:sigma=1.5,amount=0.8"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0] && !st; i++)
        st = pp_pipeline_add_spec(ctx, pipe, specs[i]);
    if (!st) {
        /* The same thing with typed parameters: an enum takes the index of its choice. */
        const pp_filter_info *rot = pp_filter_find("rotate");
        double angle = 0;
        for (int i = 0; rot && rot->params[0].choices[i]; i++)
            if (strcmp(rot->params[0].choices[i], "270") == 0) angle = i;
        const char *keys[] = {"angle"};
        st = pp_pipeline_add(ctx, pipe, "rotate", 1, keys, &angle);
    }
    if (st) {
        pp_pipeline_free(pipe);
        return st;
    }
    *out = pipe;
    return PP_OK;
}

/* Runs the pipeline; after a worker died, the pool is re-forked by the next call: retry once. */
static pp_status run(pp_ctx *ctx, const pp_pipeline *pipe, const pp_image *in, pp_image **out)
{
    pp_status st = pp_pipeline_run(ctx, pipe, in, out);
    if (st == PP_ERR_WORKER) {
        fprintf(stderr, "example_fork_pipeline: %s; retrying\n", pp_ctx_last_error(ctx));
        st = pp_pipeline_run(ctx, pipe, in, out);
    }
    return st;
}

static int same_pixels(const pp_image *a, const pp_image *b)
{
    int w = pp_image_width(a), h = pp_image_height(a), c = pp_image_channels(a);
    if (w != pp_image_width(b) || h != pp_image_height(b) || c != pp_image_channels(b)) return 0;
    for (int y = 0; y < h; y++)
        if (memcmp(pp_image_data((pp_image *)a) + (size_t)y * pp_image_stride(a),
                   pp_image_data((pp_image *)b) + (size_t)y * pp_image_stride(b),
                   (size_t)w * (size_t)c) != 0)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: example_fork_pipeline OUTDIR IMAGE...\n");
        return 2;
    }
    const char *outdir = argv[1];
    int rc = 1;
    /* Two contexts: the fork one does the work, the serial one is the reference. Each context
       owns its own pool; a context is used by one thread at a time. */
    pp_ctx *fork_ctx = pp_ctx_new(), *ref_ctx = pp_ctx_new();
    pp_pipeline *pipe = NULL, *ref_pipe = NULL;
    pp_status st = PP_OK;
    pp_ctx *failed = fork_ctx;
    if (!fork_ctx || !ref_ctx) {
        fprintf(stderr, "example_fork_pipeline: out of memory\n");
        goto done;
    }
    int workers = pp_cpu_count() < 2 ? 2 : pp_cpu_count() > 4 ? 4 : pp_cpu_count();
    if ((st = pp_ctx_set_backend(fork_ctx, PP_BACKEND_FORK)) ||
        (st = pp_ctx_set_workers(fork_ctx, workers)) || (st = build_pipeline(fork_ctx, &pipe)))
        goto fail;
    failed = ref_ctx;
    if ((st = pp_ctx_set_backend(ref_ctx, PP_BACKEND_SERIAL)) ||
        (st = build_pipeline(ref_ctx, &ref_pipe)))
        goto fail;

    for (int i = 2; i < argc; i++) {
        const char *path = argv[i];
        pp_image *in = NULL, *out = NULL, *ref = NULL;
        int ok = 0;
        /* Loaded by a fork context, the pixels are decoded straight into the shared arena. */
        failed = fork_ctx;
        if ((st = pp_load(fork_ctx, path, &in)) || (st = run(fork_ctx, pipe, in, &out)))
            goto image_done;
        failed = ref_ctx;
        if ((st = pp_pipeline_run(ref_ctx, ref_pipe, in, &ref))) goto image_done;

        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        const char *dot = strrchr(base, '.');
        char name[4096];
        snprintf(name, sizeof name, "%s/%.*s.fork.png", outdir,
                 (int)(dot ? (size_t)(dot - base) : strlen(base)), base);
        failed = fork_ctx;
        if ((st = pp_save(fork_ctx, out, name))) goto image_done;
        ok = same_pixels(out, ref);
        printf("%s: %dx%d -> %dx%d with %d fork workers, %s serial -> %s\n", path,
               pp_image_width(in), pp_image_height(in), pp_image_width(out), pp_image_height(out),
               pp_ctx_workers(fork_ctx), ok ? "identical to" : "DIFFERENT from", name);
    image_done:
        if (st)
            fprintf(stderr, "example_fork_pipeline: %s (%s)\n", pp_ctx_last_error(failed),
                    pp_strerror(st));
        pp_image_free(ref);
        pp_image_free(out);
        pp_image_free(in);
        if (!ok) goto done;
    }
    rc = 0;
    goto done;

fail:
    fprintf(stderr, "example_fork_pipeline: %s (%s)\n", pp_ctx_last_error(failed), pp_strerror(st));
done:
    pp_pipeline_free(ref_pipe);
    pp_pipeline_free(pipe);
    pp_ctx_free(ref_ctx); /* stops and reaps the workers (none for serial) */
    pp_ctx_free(fork_ctx);
    return rc;
}
