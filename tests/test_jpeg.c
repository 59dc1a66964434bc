/*
 * test_jpeg.c - JPEG through libjpeg-turbo (src/codec/jpeg_read.c, jpeg_write.c): round trips at several
 * qualities and every chroma subsampling (PSNR and error bounds per channel, the sampling
 * factors in the SOF header), progressive and optimised files that decode to the baseline's
 * pixels, grayscale output, strided and alpha inputs, CMYK/YCCK input (files written here with
 * libjpeg itself), and hostile files (truncated, corrupt tables, huge progressive headers, too
 * many scans) that must fail cleanly with the file named. (ImageMagick and djpeg decoding
 * pixpool's files: tests/cli_jpeg.sh.)
 */
#include "helpers.h"
#include "jpeg_writer.h"
#include "pixpool.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static pp_ctx *jctx(int quality, pp_jpeg_subsample sub, int progressive, int optimize)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    cr_assert_eq(pp_ctx_set_jpeg_quality(ctx, quality), PP_OK);
    cr_assert_eq(pp_ctx_set_jpeg_subsample(ctx, sub), PP_OK);
    cr_assert_eq(pp_ctx_set_jpeg_progressive(ctx, progressive), PP_OK);
    cr_assert_eq(pp_ctx_set_jpeg_optimize(ctx, optimize), PP_OK);
    return ctx;
}

typedef struct jfile {
    uint8_t *p;
    size_t n;
} jfile;

static jfile encode(pp_ctx *ctx, const pp_image *img)
{
    jfile f;
    void *p;
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_JPEG, &p, &f.n), PP_OK, "%s",
                 pp_ctx_last_error(ctx));
    f.p = p;
    return f;
}

static pp_image *decode(const jfile *f)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img = NULL;
    cr_assert_eq(pp_load_mem(ctx, f->p, f->n, "t.jpg", &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    pp_ctx_free(ctx);
    return img;
}

/* A photograph-like test image: smooth gradients and some texture, each channel different. */
static pp_image *photo(int w, int h, int c)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img;
    cr_assert_eq(pp_image_new(ctx, w, h, c, &img), PP_OK);
    for (int y = 0; y < h; y++) {
        uint8_t *row = pp_image_data(img) + (size_t)y * pp_image_stride(img);
        for (int x = 0; x < w; x++) {
            double v[4] = {40 + 170.0 * x / w, 220 - 180.0 * y / h,
                           128 + 60 * sin(x * 0.21) * cos(y * 0.17), 100 + x % 50};
            if (c <= 2) v[1] = v[3]; /* gray: luma, then alpha */
            for (int k = 0; k < c; k++) row[x * c + k] = (uint8_t)lround(v[k]);
        }
    }
    pp_ctx_free(ctx);
    return img;
}

/* PSNR of channel k of b against channel k of a (same size; a's channels may include alpha). */
static double psnr(const pp_image *a, const pp_image *b, int k, int *maxerr)
{
    const int w = pp_image_width(a), h = pp_image_height(a);
    const int ca = pp_image_channels(a), cb = pp_image_channels(b);
    double se = 0;
    *maxerr = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int d = pp_image_data((pp_image *)a)[(size_t)y * pp_image_stride(a) + x * ca + k] -
                    pp_image_data((pp_image *)b)[(size_t)y * pp_image_stride(b) + x * cb + k];
            se += d * d;
            if (abs(d) > *maxerr) *maxerr = abs(d);
        }
    double mse = se / ((double)w * h);
    return mse == 0 ? 99.0 : 10 * log10(255.0 * 255.0 / mse);
}

/* The frame header of a JPEG: its SOF marker (0xc0 baseline, 0xc2 progressive...), how many
   there are, the component count and each component's sampling byte (H << 4 | V). */
typedef struct sof {
    int marker, count, ncomp;
    int samp[4];
} sof;

static sof read_sof(const jfile *f)
{
    sof s = {0};
    size_t pos = 2;
    while (pos + 4 <= f->n && f->p[pos] == 0xff) {
        int m = f->p[pos + 1];
        size_t len = (size_t)f->p[pos + 2] << 8 | f->p[pos + 3];
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            s.count++;
            s.marker = m;
            s.ncomp = f->p[pos + 9];
            for (int i = 0; i < s.ncomp && i < 4; i++) s.samp[i] = f->p[pos + 11 + 3 * i];
        }
        if (m == 0xda) break; /* the first scan: every frame header comes before it */
        pos += 2 + len;
    }
    return s;
}

static bool same_pixels(const pp_image *a, const pp_image *b) { return th_same(a, b) != 0; }

/* ---- quality and subsampling ---------------------------------------------------------------- */

/* Every quality and subsampling round-trips within bounds per channel (a swapped or dropped
   channel fails them: the channels differ by far more), and higher quality is never worse. */
Test(jpeg_encode, qualities_and_subsampling)
{
    static const int qualities[] = {50, 75, 90, 95, 100};
    static const pp_jpeg_subsample subs[] = {PP_SUBSAMPLE_444, PP_SUBSAMPLE_422, PP_SUBSAMPLE_420};
    /* least PSNR in dB per quality, for the luma-heavy G channel and for R and B */
    static const double min_psnr[] = {30, 33, 37, 39, 42};
    pp_image *img = photo(96, 64, 3);
    for (int s = 0; s < 3; s++) {
        double last = 0;
        for (int q = 0; q < 5; q++) {
            pp_ctx *ctx = jctx(qualities[q], subs[s], 0, 0);
            jfile f = encode(ctx, img);
            pp_image *back = decode(&f);
            cr_assert_eq(pp_image_channels(back), 3);
            double sum = 0;
            for (int k = 0; k < 3; k++) {
                int maxerr;
                double p = psnr(img, back, k, &maxerr);
                cr_assert_geq(p, min_psnr[q], "q%d sub %d channel %d: PSNR %.2f", qualities[q],
                              (int)subs[s], k, p);
                cr_assert_leq(maxerr, 40, "q%d channel %d: max error %d", qualities[q], k, maxerr);
                sum += p;
            }
            cr_assert_geq(sum, last - 0.5, "q%d is worse than the quality below", qualities[q]);
            last = sum;
            free(f.p);
            pp_image_free(back);
            pp_ctx_free(ctx);
        }
    }
    pp_image_free(img);
}

/* The subsampling is really applied: colour stripes one pixel wide survive 4:4:4 only when
   they run across columns, and 4:4:4 and 4:2:2 when they run across rows. */
Test(jpeg_encode, subsampling_blurs_colour_stripes)
{
    pp_ctx *mk = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *cols, *rows;
    cr_assert_eq(pp_image_new(mk, 64, 64, 3, &cols), PP_OK);
    cr_assert_eq(pp_image_new(mk, 64, 64, 3, &rows), PP_OK);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) {
            static const uint8_t red[3] = {200, 60, 60}, blue[3] = {60, 60, 200};
            memcpy(pp_image_data(cols) + y * pp_image_stride(cols) + x * 3, x & 1 ? blue : red, 3);
            memcpy(pp_image_data(rows) + y * pp_image_stride(rows) + x * 3, y & 1 ? blue : red, 3);
        }
    static const pp_jpeg_subsample subs[] = {PP_SUBSAMPLE_444, PP_SUBSAMPLE_422, PP_SUBSAMPLE_420};
    for (int s = 0; s < 3; s++) {
        pp_ctx *ctx = jctx(95, subs[s], 0, 0);
        for (int which = 0; which < 2; which++) {
            pp_image *img = which ? rows : cols;
            jfile f = encode(ctx, img);
            pp_image *back = decode(&f);
            int maxerr;
            double p = psnr(img, back, 0, &maxerr); /* red: the chroma of the stripes */
            bool kept = subs[s] == PP_SUBSAMPLE_444 || (which == 1 && subs[s] == PP_SUBSAMPLE_422);
            if (kept)
                cr_assert_geq(p, 30, "sub %d %s: PSNR %.2f", (int)subs[s], which ? "rows" : "cols", p);
            else
                cr_assert_lt(p, 22, "sub %d %s: PSNR %.2f: not subsampled?", (int)subs[s],
                             which ? "rows" : "cols", p);
            free(f.p);
            pp_image_free(back);
        }
        pp_ctx_free(ctx);
    }
    pp_image_free(cols);
    pp_image_free(rows);
    pp_ctx_free(mk);
}

/* The sampling factors in the SOF0 header: 4:4:4 = 1x1, 4:2:2 = 2x1, 4:2:0 = 2x2 for Y, 1x1 for
   Cb and Cr; AUTO is 4:4:4 from quality 90 up and 4:2:0 below (libvips, ImageMagick). */
Test(jpeg_encode, sampling_factors_in_the_header)
{
    pp_image *img = photo(40, 24, 3);
    static const struct { pp_jpeg_subsample sub; int q, luma; } cases[] = {
        {PP_SUBSAMPLE_444, 85, 0x11},  {PP_SUBSAMPLE_444, 95, 0x11},
        {PP_SUBSAMPLE_422, 85, 0x21},  {PP_SUBSAMPLE_422, 95, 0x21},
        {PP_SUBSAMPLE_420, 85, 0x22},  {PP_SUBSAMPLE_420, 95, 0x22},
        {PP_SUBSAMPLE_AUTO, 85, 0x22}, {PP_SUBSAMPLE_AUTO, 95, 0x11},
        {PP_SUBSAMPLE_AUTO, 89, 0x22}, {PP_SUBSAMPLE_AUTO, 90, 0x11},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pp_ctx *ctx = jctx(cases[i].q, cases[i].sub, 0, 0);
        jfile f = encode(ctx, img);
        sof s = read_sof(&f);
        cr_assert_eq(s.count, 1);
        cr_assert_eq(s.marker, 0xc0, "case %zu: SOF %#x", i, s.marker);
        cr_assert_eq(s.ncomp, 3);
        cr_assert_eq(s.samp[0], cases[i].luma, "case %zu: Y sampling %#x", i, s.samp[0]);
        cr_assert_eq(s.samp[1], 0x11);
        cr_assert_eq(s.samp[2], 0x11);
        free(f.p);
        pp_ctx_free(ctx);
    }
    /* the default context is AUTO at quality 90 */
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    jfile f = encode(ctx, img);
    cr_assert_eq(read_sof(&f).samp[0], 0x11);
    free(f.p);
    cr_assert_eq(pp_ctx_set_jpeg_subsample(ctx, (pp_jpeg_subsample)4), PP_ERR_INVALID);
    cr_assert_eq(pp_ctx_set_jpeg_subsample(ctx, (pp_jpeg_subsample)-1), PP_ERR_INVALID);
    cr_assert_eq(pp_ctx_set_jpeg_subsample(NULL, PP_SUBSAMPLE_444), PP_ERR_INVALID);
    cr_assert_eq(pp_ctx_set_jpeg_progressive(NULL, 1), PP_ERR_INVALID);
    cr_assert_eq(pp_ctx_set_jpeg_optimize(NULL, 1), PP_ERR_INVALID);
    pp_ctx_free(ctx);
    pp_image_free(img);
}

/* Progressive scans and optimised Huffman tables code the same quantised coefficients again,
   losslessly: the files decode to exactly the baseline's pixels. Progressive files have a SOF2
   header; optimised tables never make the file larger. */
Test(jpeg_encode, progressive_and_optimize_decode_to_the_baseline_pixels)
{
    for (int c = 1; c <= 4; c++)
        for (int s = 0; s < 2; s++) {
            pp_jpeg_subsample sub = s ? PP_SUBSAMPLE_420 : PP_SUBSAMPLE_444;
            pp_image *img = photo(77, 45, c);
            jfile f[4];
            pp_image *back[4];
            for (int mode = 0; mode < 4; mode++) { /* baseline, optimize, progressive, both */
                pp_ctx *ctx = jctx(85, sub, mode >= 2, mode & 1);
                f[mode] = encode(ctx, img);
                back[mode] = decode(&f[mode]);
                sof h = read_sof(&f[mode]);
                cr_assert_eq(h.count, 1);
                cr_assert_eq(h.marker, mode >= 2 ? 0xc2 : 0xc0, "c=%d mode %d: SOF %#x", c, mode,
                             h.marker);
                cr_assert_eq(h.ncomp, c >= 3 ? 3 : 1);
                pp_ctx_free(ctx);
            }
            cr_assert_leq(f[1].n, f[0].n, "c=%d: optimised %zu > baseline %zu bytes", c, f[1].n,
                          f[0].n);
            for (int mode = 1; mode < 4; mode++)
                cr_assert(same_pixels(back[0], back[mode]), "c=%d sub %d: mode %d decodes to other "
                          "pixels than baseline", c, s, mode);
            /* progressive implies optimised tables in libjpeg: with or without the flag alike */
            cr_assert_eq(f[2].n, f[3].n);
            cr_assert_eq(memcmp(f[2].p, f[3].p, f[2].n), 0);
            for (int mode = 0; mode < 4; mode++) {
                free(f[mode].p);
                pp_image_free(back[mode]);
            }
            pp_image_free(img);
        }
}

/* Gray and gray+alpha give a 1-component JPEG that decodes to 1 channel; alpha is dropped. */
Test(jpeg_encode, gray_is_one_component)
{
    for (int c = 1; c <= 2; c++) {
        pp_image *img = photo(50, 30, c);
        pp_ctx *ctx = jctx(95, PP_SUBSAMPLE_420, 0, 0); /* no chroma to subsample */
        jfile f = encode(ctx, img);
        sof s = read_sof(&f);
        cr_assert_eq(s.ncomp, 1);
        cr_assert_eq(s.samp[0], 0x11);
        pp_image *back = decode(&f);
        cr_assert_eq(pp_image_channels(back), 1);
        int maxerr;
        double p = psnr(img, back, 0, &maxerr);
        cr_assert_geq(p, 40, "c=%d: PSNR %.2f", c, p);
        free(f.p);
        pp_image_free(back);
        pp_image_free(img);
        pp_ctx_free(ctx);
    }
}

/* Rows are read by pointer: a strided image, RGBA (alpha skipped) and gray+alpha give the same
   bytes as the tightly packed RGB or gray image. */
Test(jpeg_encode, strides_and_alpha_give_the_packed_bytes)
{
    enum { W = 33, H = 19, PAD = 13 };
    pp_ctx *ctx = jctx(80, PP_SUBSAMPLE_422, 0, 0);
    for (int c = 1; c <= 4; c++) {
        pp_image *img = photo(W, H, c);
        int pc = c >= 3 ? 3 : 1; /* the packed colour-only image */
        uint8_t *packed = malloc((size_t)W * H * pc);
        uint8_t *padded = malloc(((size_t)W * c + PAD) * H);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const uint8_t *s = pp_image_data(img) + (size_t)y * pp_image_stride(img) + x * c;
                memcpy(packed + ((size_t)y * W + x) * pc, s, (size_t)pc);
                memcpy(padded + (size_t)y * (W * c + PAD) + x * c, s, (size_t)c);
            }
        pp_image *p, *q;
        cr_assert_eq(pp_image_wrap(ctx, packed, W, H, pc, 0, &p), PP_OK);
        cr_assert_eq(pp_image_wrap(ctx, padded, W, H, c, (size_t)W * c + PAD, &q), PP_OK);
        jfile a = encode(ctx, p), b = encode(ctx, q);
        cr_assert_eq(a.n, b.n, "c=%d", c);
        cr_assert_eq(memcmp(a.p, b.p, a.n), 0, "c=%d: strided/alpha input encodes differently", c);
        free(a.p);
        free(b.p);
        pp_image_free(p);
        pp_image_free(q);
        free(packed);
        free(padded);
        pp_image_free(img);
    }
    pp_ctx_free(ctx);
}

/* ---- CMYK and YCCK input (written here with libjpeg) ----------------------------------------- */

/* A JPEG of 4 components from CMYK samples (w x h x 4), quality 100, no subsampling; ycck
   stores it as YCCK; adobe = 0 leaves out the Adobe APP14 marker (libjpeg writes one). */
static jfile write_cmyk(const uint8_t *px, int w, int h, bool ycck, bool adobe)
{
    jpeg_writer jw;
    jw_start(&jw, w, h, 4, JCS_CMYK);
    jpeg_set_colorspace(&jw.ci, ycck ? JCS_YCCK : JCS_CMYK);
    jpeg_set_quality(&jw.ci, 100, TRUE);
    for (int i = 0; i < 4; i++) jw.ci.comp_info[i].h_samp_factor = jw.ci.comp_info[i].v_samp_factor = 1;
    jw.ci.write_Adobe_marker = adobe ? TRUE : FALSE;
    jfile f;
    f.n = jw_finish(&jw, px, &f.p);
    return f;
}

/* The CMYK samples libjpeg decodes from a file (its own decoder, as pixpool configures it). */
static uint8_t *read_cmyk(const jfile *f, int w, int h)
{
    struct jpeg_decompress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, f->p, (unsigned long)f->n);
    jpeg_read_header(&ci, TRUE);
    ci.out_color_space = JCS_CMYK;
    jpeg_start_decompress(&ci);
    cr_assert_eq((int)ci.output_width, w);
    cr_assert_eq(ci.output_components, 4);
    uint8_t *px = malloc((size_t)w * h * 4);
    while (ci.output_scanline < ci.output_height) {
        JSAMPROW row = px + (size_t)ci.output_scanline * w * 4;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    return px;
}

/* Flat 8x8 tiles of CMYK inks (0 = no ink), stored Adobe-inverted or not, as YCCK or CMYK: the
   decoded RGB is exactly R = C*K/255, G = M*K/255, B = Y*K/255 (rounded) of the inverted
   samples libjpeg decodes, and (255-C)(255-K)/255 ... of plain ones, and close to what the
   inks mean. */
Test(jpeg_decode, cmyk_and_ycck_to_rgb)
{
    enum { W = 32, H = 16 };
    static const uint8_t inks[8][4] = { /* C, M, Y, K ink */
        {0, 0, 0, 0},     {255, 0, 0, 0},    {0, 255, 0, 0},   {0, 0, 255, 0},
        {0, 0, 0, 255},   {40, 120, 200, 30}, {200, 10, 90, 100}, {128, 128, 128, 128},
    };
    for (int variant = 0; variant < 3; variant++) { /* Adobe CMYK, Adobe YCCK, plain CMYK */
        bool ycck = variant == 1, adobe = variant != 2;
        uint8_t px[W * H * 4];
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int k = 0; k < 4; k++) {
                    uint8_t ink = inks[(y / 8) * 4 + x / 8][k];
                    px[(y * W + x) * 4 + k] = adobe ? (uint8_t)(255 - ink) : ink;
                }
        jfile f = write_cmyk(px, W, H, ycck, adobe);
        uint8_t *stored = read_cmyk(&f, W, H);
        pp_image *img = decode(&f);
        cr_assert_eq(pp_image_channels(img), 3);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const uint8_t *s = stored + (y * W + x) * 4;
                const uint8_t *got = pp_image_data(img) + y * pp_image_stride(img) + x * 3;
                const uint8_t *ink = inks[(y / 8) * 4 + x / 8];
                for (int k = 0; k < 3; k++) {
                    unsigned cv = adobe ? s[k] : 255u - s[k], kv = adobe ? s[3] : 255u - s[3];
                    unsigned want = (cv * kv + 127) / 255;
                    cr_assert_eq(got[k], want, "variant %d (%d,%d) channel %d: %d, formula %u",
                                 variant, x, y, k, got[k], want);
                    double ideal = (255.0 - ink[k]) * (255.0 - ink[3]) / 255.0;
                    cr_assert(fabs(got[k] - ideal) <= 4, "variant %d (%d,%d) channel %d: %d, "
                              "ink says %.1f", variant, x, y, k, got[k], ideal);
                }
            }
        free(stored);
        free(f.p);
        pp_image_free(img);
    }
}

/* ---- hostile files ---------------------------------------------------------------------------- */

static pp_status load_fails(pp_ctx *ctx, const uint8_t *p, size_t n, const char *name)
{
    pp_image *img = (pp_image *)1;
    pp_status st = pp_load_mem(ctx, p, n, name, &img);
    cr_assert_neq(st, PP_OK, "%s (%zu bytes) decoded", name, n);
    cr_assert_null(img);
    const char *msg = pp_ctx_last_error(ctx);
    size_t len = strlen(name);
    cr_assert(strncmp(msg, name, len) == 0 && msg[len] == ':' && strlen(msg) > len + 2,
              "%s: message '%s'", name, msg);
    return st;
}

/* Every cut of a baseline and of a progressive file fails (a premature end is an error, not
   gray blocks), the file named; as does a file one corrupt marker away from valid. */
Test(jpeg_hostile, truncated_and_corrupt)
{
    pp_image *img = photo(64, 48, 3);
    for (int prog = 0; prog < 2; prog++) {
        pp_ctx *ctx = jctx(90, PP_SUBSAMPLE_AUTO, prog, 0);
        jfile f = encode(ctx, img);
        for (size_t n = 0; n + 1 < f.n; n += n < 700 ? 7 : 61) {
            pp_status st = load_fails(ctx, f.p, n, "cut.jpg");
            cr_assert(st == (n < 3 ? PP_ERR_FORMAT : PP_ERR_DECODE), "%zu bytes: status %d", n,
                      (int)st);
        }
        load_fails(ctx, f.p, f.n - 2, "cut.jpg"); /* all but EOI */
        cr_assert(strstr(pp_ctx_last_error(ctx), "Premature end of JPEG file"), "%s",
                  pp_ctx_last_error(ctx));
        /* two stray bytes before the first scan's marker: corrupt data, refused */
        size_t sos = 2;
        while (!(f.p[sos] == 0xff && f.p[sos + 1] == 0xda)) sos++;
        uint8_t *bad = malloc(f.n + 2);
        memcpy(bad, f.p, sos);
        bad[sos] = bad[sos + 1] = 0;
        memcpy(bad + sos + 2, f.p + sos, f.n - sos);
        cr_assert_eq(load_fails(ctx, bad, f.n + 2, "stray.jpg"), PP_ERR_DECODE);
        cr_assert(strstr(pp_ctx_last_error(ctx), "extraneous bytes"), "%s", pp_ctx_last_error(ctx));
        free(bad);
        free(f.p);
        pp_ctx_free(ctx);
    }
    pp_image_free(img);
}

/* SOI, then a DHT segment declaring 418 bytes of which the file holds 20: its first table's
   counts would run past the end. And a table of more than 256 codes. */
Test(jpeg_hostile, huffman_tables)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    uint8_t past[24] = {0xff, 0xd8, 0xff, 0xc4, 0x01, 0xa2, 0x00};
    for (int i = 7; i < 24; i++) past[i] = 0x30;
    cr_assert_eq(load_fails(ctx, past, sizeof past, "dht-past-end.jpg"), PP_ERR_DECODE);
    uint8_t big[2 + 4 + 17 + 300] = {0xff, 0xd8, 0xff, 0xc4, 0x01, 0x3f, 0x00};
    for (int i = 0; i < 16; i++) big[7 + i] = 20; /* 320 codes */
    cr_assert_eq(load_fails(ctx, big, sizeof big, "dht-too-many.jpg"), PP_ERR_DECODE);
    pp_ctx_free(ctx);
}

/* SOI, a frame header (SOF0 or SOF2) of w x h with `ncomp` components, the header of its first
   scan (DC only, all components) and EOI: all a decoder needs to see to decide the limits. */
static jfile header_only(int sof, int w, int h, int ncomp)
{
    jfile f = {malloc(64), 0};
    uint8_t *p = f.p;
    size_t n = 0;
    p[n++] = 0xff, p[n++] = 0xd8, p[n++] = 0xff, p[n++] = (uint8_t)sof;
    p[n++] = 0, p[n++] = (uint8_t)(8 + 3 * ncomp), p[n++] = 8;
    p[n++] = (uint8_t)(h >> 8), p[n++] = (uint8_t)h, p[n++] = (uint8_t)(w >> 8), p[n++] = (uint8_t)w;
    p[n++] = (uint8_t)ncomp;
    for (int k = 0; k < ncomp; k++) p[n++] = (uint8_t)(k + 1), p[n++] = k ? 0x11 : 0x22, p[n++] = 0;
    p[n++] = 0xff, p[n++] = 0xda, p[n++] = 0, p[n++] = (uint8_t)(6 + 2 * ncomp), p[n++] = (uint8_t)ncomp;
    for (int k = 0; k < ncomp; k++) p[n++] = (uint8_t)(k + 1), p[n++] = 0;
    p[n++] = 0, p[n++] = sof == 0xc2 ? 0 : 63, p[n++] = 0;
    p[n++] = 0xff, p[n++] = 0xd9;
    f.n = n;
    return f;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* A 60000x60000 progressive header fails from the header, fast, with PP_ERR_LIMIT: the pixel
   limit, or without it the memory limit, which counts the whole-image coefficient buffer a
   progressive file needs (2 bytes per sample): an 8000x8000 gray image of 64 MB fits 150 MB as
   a baseline file (which then fails for want of data) but not as a progressive one (+128 MB). */
Test(jpeg_hostile, huge_progressive_headers)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_ctx *mem = th_ctx(PP_BACKEND_SERIAL, 1);
    cr_assert_eq(pp_ctx_set_max_pixels(mem, UINT64_MAX), PP_OK);
    cr_assert_eq(pp_ctx_set_max_memory(mem, (uint64_t)16 << 30), PP_OK);
    jfile bomb = header_only(0xc2, 60000, 60000, 3);
    double t0 = now_s();
    cr_assert_eq(load_fails(ctx, bomb.p, bomb.n, "bomb.jpg"), PP_ERR_LIMIT);
    cr_assert(strstr(pp_ctx_last_error(ctx), "limit"), "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(load_fails(mem, bomb.p, bomb.n, "bomb.jpg"), PP_ERR_LIMIT);
    cr_assert(strstr(pp_ctx_last_error(mem), "memory limit"), "%s", pp_ctx_last_error(mem));
    cr_assert_lt(now_s() - t0, 1.0, "refusing the headers took %.2f s", now_s() - t0);
    /* pp_info reads the header alone, and checks no limit */
    char path[] = "/tmp/pp-test-jpeg-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, bomb.p, bomb.n), (ssize_t)bomb.n);
    close(fd);
    pp_image_info info;
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(info.format, PP_FORMAT_JPEG);
    cr_assert_eq(info.width, 60000);
    cr_assert_eq(info.height, 60000);
    cr_assert_eq(info.channels, 3);
    unlink(path);
    free(bomb.p);

    cr_assert_eq(pp_ctx_set_max_memory(mem, (uint64_t)150 << 20), PP_OK);
    jfile base = header_only(0xc0, 8000, 8000, 1), prog = header_only(0xc2, 8000, 8000, 1);
    cr_assert_eq(load_fails(mem, base.p, base.n, "base.jpg"), PP_ERR_DECODE);
    cr_assert_eq(load_fails(mem, prog.p, prog.n, "prog.jpg"), PP_ERR_LIMIT);
    cr_assert(strstr(pp_ctx_last_error(mem), "memory limit"), "%s", pp_ctx_last_error(mem));
    free(base.p);
    free(prog.p);
    pp_ctx_free(mem);
    pp_ctx_free(ctx);
}

/* A gray progressive JPEG of `scans` scans (written with libjpeg from a script: the DC scan and
   its 10 refinements, then each AC coefficient alone in its first scan and 10 refinements; a
   valid file, which djpeg decodes without a warning), cut to its first `scans` scans. */
static jfile many_scans(int w, int h, int scans)
{
    static jpeg_scan_info script[11 + 63 * 11];
    int n = 0;
    for (int ah = 0; ah <= 10; ah++) /* DC: Al 10, then refinements 10 -> 9 ... 1 -> 0 */
        script[n++] = (jpeg_scan_info){1, {0}, 0, 0, ah ? 11 - ah : 0, ah ? 10 - ah : 10};
    for (int k = 1; k < 64; k++)
        for (int ah = 0; ah <= 10; ah++)
            script[n++] = (jpeg_scan_info){1, {0}, k, k, ah ? 11 - ah : 0, ah ? 10 - ah : 10};
    cr_assert_leq(scans, n);
    uint8_t *px = malloc((size_t)w * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) px[(size_t)y * w + x] = (uint8_t)(x * 7 + y * 3);
    jpeg_writer jw;
    jw_start(&jw, w, h, 1, JCS_GRAYSCALE);
    jw.ci.scan_info = script;
    jw.ci.num_scans = scans;
    jfile f;
    f.n = jw_finish(&jw, px, &f.p);
    free(px);
    return f;
}

/* More than 100 scans (pixpool's limit) fail with PP_ERR_LIMIT, after 100 passes and no more;
   100 decode. */
Test(jpeg_hostile, too_many_scans)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    jfile ok = many_scans(64, 64, 100), over = many_scans(64, 64, 101);
    jfile bad = many_scans(512, 512, 11 + 63 * 11);
    pp_image *img = NULL;
    cr_assert_eq(pp_load_mem(ctx, ok.p, ok.n, "100.jpg", &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_image_channels(img), 1);
    pp_image_free(img);
    cr_assert_eq(load_fails(ctx, over.p, over.n, "101.jpg"), PP_ERR_LIMIT);
    double t0 = now_s();
    cr_assert_eq(load_fails(ctx, bad.p, bad.n, "704.jpg"), PP_ERR_LIMIT);
    cr_assert(strstr(pp_ctx_last_error(ctx), "more than 100 scans"), "%s", pp_ctx_last_error(ctx));
    cr_assert_lt(now_s() - t0, 5.0);
    free(ok.p);
    free(over.p);
    free(bad.p);
    pp_ctx_free(ctx);
}
