/*
 * fuzz_pipeline.c - fuzz target: random pipelines of registry filters with random parameters
 * on small random images, run by every backend, which must agree bit for bit.
 *
 * Input layout (missing bytes read as 0, so every input is valid):
 *   w = 1 + b % 24, h = 1 + b % 24, channels = 1 + b % 4, band rows = b % 10 (0: automatic),
 *   OpenMP workers = 1 + b % 3, flags (bit 0: run the fork backend too; bits 1-3: row padding
 *   of the input, which is then a wrapped buffer with stride w * channels + padding),
 *   filter count = 1 + b % 4, then per filter: its index in the registry (b % count) and, per
 *   parameter of its schema, a selector byte and a 16-bit value that pick a value inside the
 *   parameter's range (see param_value), then the pixels (the rest of the input, repeated; a
 *   fixed pattern when there is none).
 * The filters become spec strings (so the parser is exercised too; every value lies in its
 * range, so each spec must parse) and one pipeline. It runs on the serial backend (the
 * reference), on OpenMP with the chosen workers and band rows, and, when asked, on the fork
 * backend (2 workers, the same band rows). Statuses must match and successful outputs must be
 * identical; only PP_ERR_LIMIT may differ between backends, because kernel scratch is counted
 * per worker and the fork backend copies a heap input into shared memory. Errors need a
 * message. One context per backend lives for the whole run: the fork pool is forked once, at
 * the first input, before OpenMP starts any thread.
 * Limits: 1024 pixels per image and 64 MiB, so that every run stays small and fast.
 * PP_FUZZ_VERBOSE=1 in the environment prints each input's pipeline and statuses.
 */
#include "fuzz.h"
#include "pixpool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIXELS 1024
#define MAX_MEMORY ((uint64_t)64 << 20)
#define MAX_FILTERS 4
#define SPEC_LEN 4096

typedef struct reader {
    const uint8_t *d;
    size_t n, pos;
} reader;

static unsigned rd8(reader *r) { return r->pos < r->n ? r->d[r->pos++] : 0u; }
static unsigned rd16(reader *r)
{
    unsigned hi = rd8(r); /* two statements: the order of the reads is fixed */
    return hi << 8 | rd8(r);
}

enum { B_SERIAL, B_OPENMP, B_FORK, NB };
static pp_ctx *ctxs[NB];
static const char *const names[NB] = {"serial", "openmp", "fork"};

static pp_ctx *new_ctx(pp_backend backend, int workers)
{
    pp_ctx *ctx = pp_ctx_new();
    if (!ctx || pp_ctx_set_backend(ctx, backend) || pp_ctx_set_workers(ctx, workers) ||
        pp_ctx_set_max_pixels(ctx, MAX_PIXELS) || pp_ctx_set_max_memory(ctx, MAX_MEMORY))
        pp_fuzz_fail("pipeline", "cannot set up a context");
    return ctx;
}

/* PP_FUZZ_VERBOSE=1 in the environment prints each input's pipeline and statuses. */
static int verbose;

static void setup(void)
{
    if (ctxs[0]) return;
    verbose = getenv("PP_FUZZ_VERBOSE") != NULL;
    /* the fork pool first, while this process has no OpenMP threads */
    ctxs[B_FORK] = new_ctx(PP_BACKEND_FORK, 2);
    pp_image *one = NULL, *out = NULL;
    if (pp_image_new(ctxs[B_FORK], 1, 1, 1, &one) || pp_apply(ctxs[B_FORK], "invert", one, &out))
        pp_fuzz_fail("pipeline", "cannot start the fork pool: %s",
                     pp_ctx_last_error(ctxs[B_FORK]));
    pp_image_free(one);
    pp_image_free(out);
    ctxs[B_SERIAL] = new_ctx(PP_BACKEND_SERIAL, 1);
    ctxs[B_OPENMP] = new_ctx(PP_BACKEND_OPENMP, 2);
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* A value for parameter `pi` from a selector and a 16-bit number: the minimum, the maximum,
   the default, or a point of the range - mostly near its low or high end, sometimes anywhere.
   Returns 0 when the parameter is to be left out. */
static int param_value(const pp_param_info *pi, unsigned sel, unsigned v, double *out)
{
    const double lo = pi->min, hi = pi->max, span = hi - lo, f = v / 65535.0;
    double x;
    switch (sel % 8) {
    case 0: return 0;
    case 1: x = lo; break;
    case 2: x = hi; break;
    case 3: x = clampd(pi->def, lo, hi); break;
    case 4: x = pi->type == PP_PARAM_INT ? lo + v % (unsigned)fmin(span + 1, 8) : lo + f * fmin(span, 4); break;
    case 5: x = pi->type == PP_PARAM_INT ? lo + v % (unsigned)fmin(span + 1, 64) : lo + f * fmin(span, 64); break;
    case 6: x = lo + f * span; break;
    default: x = pi->type == PP_PARAM_INT ? hi - v % (unsigned)fmin(span + 1, 64) : hi - f * fmin(span, 64); break;
    }
    if (pi->type == PP_PARAM_INT) x = round(x);
    *out = clampd(x, lo, hi);
    return 1;
}

/* Appends the spec of one filter, decoded from r, to buf. */
static void make_spec(reader *r, char *buf, size_t len)
{
    const pp_filter_info *fi = pp_filter_at((int)(rd8(r) % (unsigned)pp_filter_count()));
    size_t off = (size_t)snprintf(buf, len, "%s", fi->name);
    char sep = ':';
    int group_left = 0, group_given = 0; /* PP_PARAM_GROUP: at least one is given */
    for (int k = 0; k < fi->nparams; k++) group_left += fi->params[k].required == PP_PARAM_GROUP;
    for (int k = 0; k < fi->nparams && off < len; k++) {
        const pp_param_info *pi = &fi->params[k];
        unsigned sel = rd8(r), v = rd16(r);
        if (pi->required == PP_PARAM_GROUP) {
            if (--group_left == 0 && !group_given && sel % 8 == 0) sel = 3; /* the last one */
            group_given |= sel % 8 != 0;
        }
        if (pi->type == PP_PARAM_ENUM) {
            int n = 0;
            while (pi->choices[n]) n++;
            if (sel % 8 == 0) continue;
            off += (size_t)snprintf(buf + off, len - off, "%c%s=%s", sep, pi->name,
                                    pi->choices[v % (unsigned)n]);
        } else if (pi->type == PP_PARAM_LIST) {
            /* always given (a kernel is required): k x k values, k odd, 1..15 */
            int side = 2 * (int)(v % 8) + 1;
            off += (size_t)snprintf(buf + off, len - off, "%c%s=", sep, pi->name);
            for (int i = 0; i < side * side && off < len; i++) {
                double x = sel % 4 == 1 ? pi->min : sel % 4 == 2 ? pi->max
                                                               : (double)(int8_t)rd8(r);
                off += (size_t)snprintf(buf + off, len - off, "%s%.17g", i ? "/" : "",
                                        clampd(x, pi->min, pi->max));
            }
        } else {
            double x;
            if (!param_value(pi, sel, v, &x)) continue;
            if (pi->type == PP_PARAM_INT)
                off += (size_t)snprintf(buf + off, len - off, "%c%s=%.0f", sep, pi->name, x);
            else
                off += (size_t)snprintf(buf + off, len - off, "%c%s=%.17g", sep, pi->name, x);
        }
        sep = ',';
    }
    if (off >= len) pp_fuzz_fail("pipeline", "spec buffer too small");
}

static int same_pixels(pp_image *a, pp_image *b)
{
    int w = pp_image_width(a), h = pp_image_height(a), c = pp_image_channels(a);
    if (w != pp_image_width(b) || h != pp_image_height(b) || c != pp_image_channels(b)) return 0;
    for (int y = 0; y < h; y++)
        if (memcmp(pp_image_data(a) + (size_t)y * pp_image_stride(a),
                   pp_image_data(b) + (size_t)y * pp_image_stride(b), (size_t)w * (size_t)c))
            return 0;
    return 1;
}

int pp_fuzz_pipeline(const uint8_t *data, size_t size)
{
    setup();
    reader r = {data, size, 0};
    const int w = 1 + (int)(rd8(&r) % 24), h = 1 + (int)(rd8(&r) % 24);
    const int c = 1 + (int)(rd8(&r) % 4), band = (int)(rd8(&r) % 10);
    const int workers = 1 + (int)(rd8(&r) % 3);
    const unsigned flags = rd8(&r);
    const int nfilters = 1 + (int)(rd8(&r) % MAX_FILTERS);
    const size_t pad = (flags >> 1) & 7;

    pp_pipeline *pl = NULL;
    if (pp_pipeline_new(ctxs[B_SERIAL], &pl)) pp_fuzz_fail("pipeline", "pp_pipeline_new");
    char spec[SPEC_LEN], all[MAX_FILTERS * 160];
    size_t alloff = 0;
    all[0] = '\0';
    for (int i = 0; i < nfilters; i++) {
        make_spec(&r, spec, sizeof spec);
        if (pp_pipeline_add_spec(ctxs[B_SERIAL], pl, spec))
            pp_fuzz_fail("pipeline", "an in-range spec was refused: '%s': %s", spec,
                         pp_ctx_last_error(ctxs[B_SERIAL]));
        alloff += (size_t)snprintf(all + alloff, sizeof all - alloff, " -f '%.120s'", spec);
        if (alloff >= sizeof all) alloff = sizeof all - 1;
    }

    /* the input: a wrapped buffer with padded rows, filled from the rest of the data */
    const size_t stride = (size_t)w * (size_t)c + pad;
    uint8_t *px = malloc(stride * (size_t)h);
    if (!px) pp_fuzz_fail("pipeline", "out of memory");
    const size_t rest = r.pos < size ? size - r.pos : 0;
    for (size_t i = 0; i < stride * (size_t)h; i++)
        px[i] = rest ? data[r.pos + i % rest] : (uint8_t)(i * 73u + (i >> 4) * 29u);
    pp_image *in = NULL;
    if (pp_image_wrap(ctxs[B_SERIAL], px, w, h, c, stride, &in))
        pp_fuzz_fail("pipeline", "pp_image_wrap: %s", pp_ctx_last_error(ctxs[B_SERIAL]));

    pp_ctx_set_workers(ctxs[B_OPENMP], workers);
    pp_ctx_set_band_rows(ctxs[B_OPENMP], band);
    pp_ctx_set_band_rows(ctxs[B_FORK], band);
    pp_image *out[NB] = {NULL, NULL, NULL};
    pp_status st[NB];
    const int nb = flags & 1 ? NB : B_FORK;
    for (int b = 0; b < nb; b++) {
        st[b] = pp_pipeline_run(ctxs[b], pl, in, &out[b]);
        if (st[b] == PP_OK && !out[b]) pp_fuzz_fail("pipeline", "%s: PP_OK without an image", names[b]);
        if (st[b] != PP_OK) {
            if (out[b]) pp_fuzz_fail("pipeline", "%s: an error with an image", names[b]);
            if (st[b] != PP_ERR_SPEC && st[b] != PP_ERR_LIMIT)
                pp_fuzz_fail("pipeline", "%s: %dx%dx%d%s: status %d: %s", names[b], w, h, c, all,
                             (int)st[b], pp_ctx_last_error(ctxs[b]));
            if (!pp_ctx_last_error(ctxs[b])[0])
                pp_fuzz_fail("pipeline", "%s: status %d without a message", names[b], (int)st[b]);
        }
    }
    if (verbose)
        fprintf(stderr, "pipeline: %dx%dx%d pad %zu%s: serial %d, openmp (%d workers, band %d) %d"
                        ", fork %d\n", w, h, c, pad, all, (int)st[0], workers, band, (int)st[1],
                nb > B_FORK ? (int)st[B_FORK] : -1);
    for (int b = 1; b < nb; b++) {
        if (st[b] != st[0] && st[b] != PP_ERR_LIMIT && st[0] != PP_ERR_LIMIT)
            pp_fuzz_fail("pipeline", "%dx%dx%d%s: serial gives %d, %s (%d workers, band %d) %d",
                         w, h, c, all, (int)st[0], names[b], b == B_FORK ? 2 : workers, band,
                         (int)st[b]);
        if (st[b] == PP_OK && st[0] == PP_OK && !same_pixels(out[0], out[b]))
            pp_fuzz_fail("pipeline", "%dx%dx%d%s: serial and %s (%d workers, band %d) differ", w,
                         h, c, all, names[b], b == B_FORK ? 2 : workers, band);
    }
    for (int b = 0; b < NB; b++) pp_image_free(out[b]);
    pp_image_free(in);
    free(px);
    pp_pipeline_free(pl);
    return 0;
}

#ifndef PP_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return pp_fuzz_pipeline(data, size);
}
#endif
