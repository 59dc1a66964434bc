/*
 * example_filter.c - the smallest useful program on libpixpool: load an image, run filters on it,
 * save the result, and check the saved file.
 *
 *   example_filter INPUT OUTPUT [SPEC...]      (default specs: gaussian:sigma=2 sharpen)
 *
 * e.g. example_filter photo.png out.png gaussian:sigma=2.5 "unsharp:amount=1.5"
 *
 * Build against an installed pixpool:
 *   cc example_filter.c $(pkg-config --cflags --libs pixpool) -o example_filter
 *
 * Exit status 0 on success, 1 on any failure (the reason is printed on stderr).
 */
#include <pixpool.h>

#include <stdio.h>
#include <string.h>

/* Prints what failed and the context's detailed message; returns 1 (the exit status). */
static int fail(pp_ctx *ctx, const char *what, pp_status st)
{
    fprintf(stderr, "example_filter: %s: %s (%s)\n", what, pp_ctx_last_error(ctx),
            pp_strerror(st));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: example_filter INPUT OUTPUT [SPEC...]\n");
        return 2;
    }
    const char *input = argv[1], *output = argv[2];
    static const char *const default_specs[] = {"gaussian:sigma=2", "sharpen"};
    const char *const *specs = argc > 3 ? (const char *const *)argv + 3 : default_specs;
    int nspecs = argc > 3 ? argc - 3 : 2;

    pp_ctx *ctx = pp_ctx_new(); /* OpenMP backend, one worker per available CPU */
    if (!ctx) {
        fprintf(stderr, "example_filter: out of memory\n");
        return 1;
    }
    int rc = 1;
    pp_image *in = NULL, *out = NULL, *back = NULL;
    pp_pipeline *pipe = NULL;
    pp_status st;

    /* 1. load: the format is detected from the file's bytes */
    if ((st = pp_load(ctx, input, &in))) {
        rc = fail(ctx, "load", st);
        goto done;
    }
    printf("loaded %s: %dx%d, %d channel(s)\n", input, pp_image_width(in), pp_image_height(in),
           pp_image_channels(in));

    /* 2. a pipeline of filters, validated as they are added */
    if ((st = pp_pipeline_new(ctx, &pipe))) {
        rc = fail(ctx, "pipeline", st);
        goto done;
    }
    for (int i = 0; i < nspecs; i++) {
        if ((st = pp_pipeline_add_spec(ctx, pipe, specs[i]))) {
            rc = fail(ctx, specs[i], st);
            goto done;
        }
    }

    /* 3. run it: `in` is left alone, the result is a new image */
    if ((st = pp_pipeline_run(ctx, pipe, in, &out))) {
        rc = fail(ctx, "run", st);
        goto done;
    }

    /* 4. save: the format follows the extension; the file appears complete or not at all */
    if ((st = pp_save(ctx, out, output))) {
        rc = fail(ctx, "save", st);
        goto done;
    }

    /* 5. check: the header of the file, and (for lossless formats) the pixels read back */
    pp_image_info info;
    if ((st = pp_info(ctx, output, &info))) {
        rc = fail(ctx, "info", st);
        goto done;
    }
    if (info.width != pp_image_width(out) || info.height != pp_image_height(out)) {
        fprintf(stderr, "example_filter: %s is %dx%d, expected %dx%d\n", output, info.width,
                info.height, pp_image_width(out), pp_image_height(out));
        goto done;
    }
    if (info.format == PP_FORMAT_PNG) {
        if ((st = pp_load(ctx, output, &back))) {
            rc = fail(ctx, "reload", st);
            goto done;
        }
        int w = pp_image_width(out), h = pp_image_height(out), c = pp_image_channels(out);
        if (pp_image_channels(back) != c) {
            fprintf(stderr, "example_filter: %s has %d channels, expected %d\n", output,
                    pp_image_channels(back), c);
            goto done;
        }
        for (int y = 0; y < h; y++) {
            const uint8_t *a = pp_image_data(out) + (size_t)y * pp_image_stride(out);
            const uint8_t *b = pp_image_data(back) + (size_t)y * pp_image_stride(back);
            if (memcmp(a, b, (size_t)w * (size_t)c) != 0) {
                fprintf(stderr, "example_filter: %s: row %d differs from the filtered image\n",
                        output, y);
                goto done;
            }
        }
    }
    printf("wrote %s: %s %dx%d, %d channel(s), %d filter(s)\n", output, pp_format_name(info.format),
           info.width, info.height, info.channels, pp_pipeline_length(pipe));
    rc = 0;

done:
    pp_image_free(back);
    pp_image_free(out);
    pp_image_free(in);
    pp_pipeline_free(pipe);
    pp_ctx_free(ctx);
    return rc;
}
