/*
 * fuzz_spec.c - fuzz target: the filter-spec parser, then the parsed pipeline.
 *
 * The input is split at newlines into up to 8 spec strings, each handed to
 * pp_pipeline_add_spec: it must either append one filter (PP_OK) or leave the pipeline as it
 * was with PP_ERR_SPEC and a message. The pipeline is then run (serial backend) on three tiny
 * images (RGB, gray+alpha, and 1xN gray): every run ends in PP_OK with a well-formed image,
 * or in PP_ERR_SPEC / PP_ERR_LIMIT with a message. Limits are small (1024 pixels, 32 MiB) so
 * that no spec can make a run slow or large.
 */
#include "fuzz.h"
#include "pixpool.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SPECS 8
#define MAX_SPEC_LEN 8192

static pp_ctx *ctx;
static pp_image *images[3];

static void setup(void)
{
    if (ctx) return;
    ctx = pp_ctx_new();
    if (!ctx) pp_fuzz_fail("spec", "pp_ctx_new failed");
    pp_ctx_set_backend(ctx, PP_BACKEND_SERIAL);
    pp_ctx_set_max_pixels(ctx, 1024);
    pp_ctx_set_max_memory(ctx, (uint64_t)32 << 20);
    const int geom[3][3] = {{5, 3, 3}, {3, 4, 2}, {1, 6, 1}};
    for (int i = 0; i < 3; i++) {
        if (pp_image_new(ctx, geom[i][0], geom[i][1], geom[i][2], &images[i]))
            pp_fuzz_fail("spec", "pp_image_new: %s", pp_ctx_last_error(ctx));
        uint8_t *d = pp_image_data(images[i]);
        size_t n = (size_t)geom[i][0] * geom[i][1] * geom[i][2];
        for (size_t k = 0; k < n; k++) d[k] = (uint8_t)(k * 37u + 11u * (unsigned)i);
    }
}

static void check_message(pp_status st)
{
    if (pp_ctx_last_error(ctx)[0] == '\0')
        pp_fuzz_fail("spec", "status %d (%s) without a message", (int)st, pp_strerror(st));
}

int pp_fuzz_spec(const uint8_t *data, size_t size)
{
    setup();
    if (!data) data = (const uint8_t *)""; /* size is 0 then */
    pp_pipeline *pl = NULL;
    if (pp_pipeline_new(ctx, &pl)) pp_fuzz_fail("spec", "pp_pipeline_new failed");
    char *spec = malloc(size + 1);
    if (!spec) pp_fuzz_fail("spec", "out of memory");
    size_t pos = 0;
    for (int k = 0; k < MAX_SPECS && pos <= size; k++) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        if (len > MAX_SPEC_LEN) len = MAX_SPEC_LEN;
        memcpy(spec, data + pos, len);
        spec[len] = '\0';
        pos += len + 1;
        int before = pp_pipeline_length(pl);
        pp_status st = pp_pipeline_add_spec(ctx, pl, spec);
        if (st == PP_OK) {
            if (pp_pipeline_length(pl) != before + 1)
                pp_fuzz_fail("spec", "PP_OK but the pipeline did not grow by one");
        } else {
            if (st != PP_ERR_SPEC)
                pp_fuzz_fail("spec", "'%s': status %d (%s)", spec, (int)st, pp_strerror(st));
            check_message(st);
            if (pp_pipeline_length(pl) != before)
                pp_fuzz_fail("spec", "a refused spec changed the pipeline");
        }
        if (!nl) break;
    }
    free(spec);

    if (pp_pipeline_length(pl) > 0) {
        for (int i = 0; i < 3; i++) {
            pp_image *out = NULL;
            pp_status st = pp_pipeline_run(ctx, pl, images[i], &out);
            if (st == PP_OK) {
                if (!out || pp_image_width(out) < 1 || pp_image_height(out) < 1 ||
                    pp_image_channels(out) < 1 || pp_image_channels(out) > 4)
                    pp_fuzz_fail("spec", "PP_OK with a malformed or missing image");
                /* read every pixel (the sanitizers check the buffer) */
                volatile unsigned sum = 0;
                for (int y = 0; y < pp_image_height(out); y++)
                    for (int x = 0; x < pp_image_width(out) * pp_image_channels(out); x++)
                        sum += pp_image_data(out)[(size_t)y * pp_image_stride(out) + (size_t)x];
                (void)sum;
                pp_image_free(out);
            } else {
                if (out) pp_fuzz_fail("spec", "status %d with an image", (int)st);
                if (st != PP_ERR_SPEC && st != PP_ERR_LIMIT)
                    pp_fuzz_fail("spec", "run: status %d (%s): %s", (int)st, pp_strerror(st),
                                 pp_ctx_last_error(ctx));
                check_message(st);
            }
        }
    }
    pp_pipeline_free(pl);
    return 0;
}

#ifndef PP_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return pp_fuzz_spec(data, size); }
#endif
