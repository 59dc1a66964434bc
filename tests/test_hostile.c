/*
 * test_hostile.c - hostile input, resource limits, overflow-checked sizes and parameter
 * extremes: the library must refuse cleanly (a status and a message, nothing leaked - the
 * sanitizer build checks that), never crash, hang or allocate what a header merely claims.
 *
 *  - regressions: every file of tests/fuzz/regressions/{load,spec,pipeline} replayed through
 *    the fuzz targets (tests/fuzz), whose contracts abort on a violation;
 *  - seeds: the generated fuzz corpus (make_corpus) cut at every length and mutated byte by
 *    byte: a cut file fails, a mutated one decodes or fails cleanly (the fuzz_load contract);
 *  - bombs: tiny files of every format declaring huge images are refused from the header with
 *    PP_ERR_LIMIT, and the process's peak virtual memory shows nothing of their size was
 *    allocated (not even untouched);
 *  - decoders: zero sizes, bad CRCs and chunk lengths, bad palettes, bad codes, PSD details;
 *  - limits: pp_ctx_set_max_memory for images, loads and pipeline runs (the sum of the live
 *    buffers, scratch, the fork backend's input copy), and the CLI's --max-memory;
 *  - sizes: overflowing dimensions, strides, crop rectangles, resize targets, kernel radii;
 *  - extremes: every parameter of every registry filter at its minimum, maximum and default,
 *    on 1x1, 1x9, 9x1 and 2x2 images, on every backend: PP_OK with identical results, or
 *    PP_ERR_SPEC / PP_ERR_LIMIT with a message.
 * Files come from PP_SOURCE_DIR and PP_MAKE_CORPUS (set by ctest); never from outside the tree.
 */
#define _GNU_SOURCE
#include "fuzz.h"
#include "helpers.h"
#include "pixpool.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- byte buffers ------------------------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n) cap *= 2;
        b->p = realloc(b->p, cap);
        cr_assert_not_null(b->p);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void u8(buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}
static void le16(buf *b, unsigned v) { u8(b, v), u8(b, v >> 8); }
static void le32(buf *b, uint32_t v) { le16(b, v & 0xffff), le16(b, v >> 16); }
static void be16(buf *b, unsigned v) { u8(b, v >> 8), u8(b, v); }
static void be32(buf *b, uint32_t v) { be16(b, v >> 16), be16(b, v & 0xffff); }
static void str(buf *b, const char *s) { put(b, s, strlen(s)); }
static void buf_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- PNG by hand: chunks with their CRC, IDAT as stored (uncompressed) deflate ------------ */

static uint32_t crc32_of(const uint8_t *p, size_t n, uint32_t c)
{
    c = ~c;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static void png_chunk(buf *b, const char *type, const uint8_t *data, uint32_t len)
{
    be32(b, len);
    size_t at = b->n;
    put(b, type, 4);
    put(b, data, len);
    be32(b, crc32_of(b->p + at, len + 4, 0));
}

static void png_sig(buf *b) { put(b, "\x89PNG\r\n\x1a\n", 8); }

static void png_ihdr(buf *b, uint32_t w, uint32_t h, int depth, int ctype, int interlace)
{
    buf d = {0};
    be32(&d, w), be32(&d, h), u8(&d, (unsigned)depth), u8(&d, (unsigned)ctype), u8(&d, 0), u8(&d, 0);
    u8(&d, (unsigned)interlace);
    png_chunk(b, "IHDR", d.p, (uint32_t)d.n);
    buf_free(&d);
}

/* A zlib stream of one stored block holding `raw` (filter bytes included). */
static void png_idat(buf *b, const uint8_t *raw, size_t n)
{
    buf z = {0};
    u8(&z, 0x78), u8(&z, 0x01), u8(&z, 1), le16(&z, (unsigned)n), le16(&z, (unsigned)~n & 0xffff);
    put(&z, raw, n);
    uint32_t a = 1, s = 0;
    for (size_t i = 0; i < n; i++) a = (a + raw[i]) % 65521, s = (s + a) % 65521;
    be32(&z, s << 16 | a);
    png_chunk(b, "IDAT", z.p, (uint32_t)z.n);
    buf_free(&z);
}

static void png_iend(buf *b) { png_chunk(b, "IEND", NULL, 0); }

/* ---- loading helpers ---------------------------------------------------------------------- */

static pp_ctx *serial_ctx(void) { return th_ctx(PP_BACKEND_SERIAL, 1); }

/* Loads b and expects a clean failure (no image, a message starting with the name). */
static pp_status load_fails(pp_ctx *ctx, const buf *b, const char *name)
{
    pp_image *img = (pp_image *)1;
    pp_status st = pp_load_mem(ctx, b->p, b->n, name, &img);
    cr_assert_neq(st, PP_OK, "%s: decoded, an error was expected", name);
    cr_assert_null(img, "%s: an image despite the error", name);
    const char *msg = pp_ctx_last_error(ctx);
    size_t n = strlen(name);
    cr_assert(strncmp(msg, name, n) == 0 && msg[n] == ':' && strlen(msg) > n + 2,
              "%s: message '%s'", name, msg);
    return st;
}

static pp_image *load_ok(pp_ctx *ctx, const buf *b, const char *name)
{
    pp_image *img = NULL;
    pp_status st = pp_load_mem(ctx, b->p, b->n, name, &img);
    cr_assert_eq(st, PP_OK, "%s: %s", name, pp_ctx_last_error(ctx));
    return img;
}

/* The peak virtual memory of this process in KiB (VmPeak): an allocation of what a hostile
   header claims raises it even when the memory is never touched (each test is a process). */
static long vm_peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    cr_assert_not_null(f);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmPeak: %ld kB", &kb) == 1) break;
    fclose(f);
    cr_assert_gt(kb, 0);
    return kb;
}

#define BIG_KB (256L * 1024) /* more than any test here needs: 256 MiB */

/* ---- regressions -------------------------------------------------------------------------- */

static const char *source_dir(void)
{
    const char *src = getenv("PP_SOURCE_DIR");
    if (!src) cr_skip_test("PP_SOURCE_DIR is not set (run through ctest)");
    return src;
}

/* Feeds every .hex / .bin file of tests/fuzz/regressions/SUB to fn; returns how many. */
static int replay(const char *sub, int (*fn)(const uint8_t *, size_t))
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions/%s", source_dir(), sub);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || (strcmp(e->d_name + len - 4, ".hex") && strcmp(e->d_name + len - 4, ".bin")))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t size;
        uint8_t *data = pp_fuzz_read_input(path, &size);
        cr_assert_not_null(data, "cannot read %s", path);
        cr_log_info("replaying %s/%s (%zu bytes)", sub, e->d_name, size);
        fn(data, size);
        free(data);
        count++;
    }
    closedir(d);
    return count;
}

Test(hostile_regressions, load, .timeout = 120)
{
    cr_assert_geq(replay("load", pp_fuzz_load), 5, "the load regressions are missing");
}

Test(hostile_regressions, spec, .timeout = 120) { replay("spec", pp_fuzz_spec); }

Test(hostile_regressions, pipeline, .timeout = 120) { replay("pipeline", pp_fuzz_pipeline); }

/* The regressions of fuzz_load, checked for their specific outcome too. */
Test(hostile_regressions, outcomes)
{
    pp_ctx *ctx = serial_ctx();
    static const struct { const char *file; pp_status want; } cases[] = {
        {"jpeg-dht-table-past-end-of-file.hex", PP_ERR_DECODE},
        {"png-text-chunk-claims-1.6GB.hex", PP_ERR_DECODE},
        {"bmp-palette-index-beyond-palette.hex", PP_ERR_DECODE},
        {"psd16-colour-below-white-matte.hex", PP_OK},
        {"jpeg-scan-overruns-code-bits.hex", PP_ERR_DECODE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/fuzz/regressions/load/%s", source_dir(), cases[i].file);
        buf b = {0};
        b.p = pp_fuzz_read_input(path, &b.n);
        cr_assert_not_null(b.p, "%s", path);
        long peak = vm_peak_kb();
        if (cases[i].want == PP_OK) {
            pp_image_free(load_ok(ctx, &b, cases[i].file));
        } else {
            cr_assert_eq(load_fails(ctx, &b, cases[i].file), cases[i].want, "%s: %s",
                         cases[i].file, pp_ctx_last_error(ctx));
        }
        cr_assert_lt(vm_peak_kb() - peak, BIG_KB, "%s: a large allocation", cases[i].file);
        buf_free(&b);
    }
    pp_ctx_free(ctx);
}

/* ---- the generated seed corpus, cut and mutated ------------------------------------------- */

/* The load seeds written by make_corpus into a fresh temporary folder (once per process). */
static char corpus[4096];

static int load_seeds(char ***names)
{
    const char *tool = getenv("PP_MAKE_CORPUS");
    if (!tool) cr_skip_test("PP_MAKE_CORPUS is not set (run through ctest)");
    if (!corpus[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(corpus, sizeof corpus, "%s/pp-hostile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        cr_assert_not_null(mkdtemp(corpus));
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "'%s' '%s/c' >/dev/null", tool, corpus);
        cr_assert_eq(system(cmd), 0, "%s failed", cmd);
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/c/load", corpus);
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    *names = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        *names = realloc(*names, (size_t)(n + 1) * sizeof **names);
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        (*names)[n] = malloc(len);
        snprintf((*names)[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    cr_assert_gt(n, 100, "make_corpus wrote only %d seeds", n);
    return n;
}

static void free_seeds(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", corpus);
    cr_assert_eq(system(cmd), 0);
    corpus[0] = '\0';
}

/* Every seed decodes; every cut of it more than 4 bytes short fails cleanly (4 bytes: the
   padding of a BMP's last row, a GIF's trailer or a PNM's final newline may go missing without
   losing a pixel). A file that is only header is never an image of zeros. */
Test(hostile_seeds, cut_files_fail, .timeout = 300)
{
    char **names;
    int n = load_seeds(&names);
    pp_ctx *ctx = serial_ctx();
    for (int i = 0; i < n; i++) {
        buf b = {0};
        b.p = pp_fuzz_read_input(names[i], &b.n);
        cr_assert_not_null(b.p);
        const char *base = strrchr(names[i], '/') + 1;
        int unsupported = strstr(base, "rle8") != NULL; /* stb reads no RLE BMP */
        if (!unsupported) pp_image_free(load_ok(ctx, &b, base));
        size_t full = b.n, step = full > 400 ? full / 200 : 1;
        for (size_t len = 0; len + 4 < full; len += step) {
            b.n = len;
            load_fails(ctx, &b, base);
        }
        b.n = full;
        buf_free(&b);
    }
    pp_ctx_free(ctx);
    free_seeds(names, n);
}

/* Bytes of every seed overwritten (0x00, 0xff, +1): the fuzz_load contract holds (a clean error
   or a well-formed image that pp_info agrees with), and decoding is deterministic. */
Test(hostile_seeds, mutated_bytes, .timeout = 600)
{
    char **names;
    int n = load_seeds(&names);
    pp_ctx *ctx = serial_ctx();
    pp_ctx_set_max_pixels(ctx, 1 << 16);
    for (int i = 0; i < n; i++) {
        size_t size;
        uint8_t *orig = pp_fuzz_read_input(names[i], &size);
        cr_assert_not_null(orig);
        uint8_t *m = malloc(size);
        size_t step = size > 64 ? size / 64 : 1;
        for (size_t pos = 0; pos < size; pos += step)
            for (int how = 0; how < 3; how++) {
                memcpy(m, orig, size);
                m[pos] = how == 0 ? 0 : how == 1 ? 0xff : (uint8_t)(m[pos] + 1);
                pp_fuzz_load(m, size);
                pp_image *a = NULL, *b = NULL;
                pp_status sa = pp_load_mem(ctx, m, size, "m", &a);
                pp_status sb = pp_load_mem(ctx, m, size, "m", &b);
                cr_assert_eq(sa, sb);
                if (sa == PP_OK) cr_assert(th_same(a, b), "%s: byte %zu: two decodes differ", names[i], pos);
                pp_image_free(a);
                pp_image_free(b);
            }
        free(m);
        free(orig);
    }
    pp_ctx_free(ctx);
    free_seeds(names, n);
}

/* ---- decompression bombs and zero sizes, every format --------------------------------------- */

static void mk_png(buf *b, uint32_t w, uint32_t h)
{
    png_sig(b);
    png_ihdr(b, w, h, 8, 2, 0);
    png_idat(b, (const uint8_t *)"\0\0\0\0", 4);
    png_iend(b);
}

static void mk_bmp(buf *b, uint32_t w, uint32_t h)
{
    str(b, "BM"), le32(b, 54), le32(b, 0), le32(b, 54);
    le32(b, 40), le32(b, w), le32(b, h), le16(b, 1), le16(b, 24), le32(b, 0), le32(b, 0);
    le32(b, 2835), le32(b, 2835), le32(b, 0), le32(b, 0);
}

static void mk_tga(buf *b, uint32_t w, uint32_t h)
{
    u8(b, 0), u8(b, 0), u8(b, 2), le16(b, 0), le16(b, 0), u8(b, 0);
    le16(b, 0), le16(b, 0), le16(b, w), le16(b, h), u8(b, 24), u8(b, 0x20);
}

static void mk_gif(buf *b, uint32_t w, uint32_t h)
{
    str(b, "GIF89a"), le16(b, w), le16(b, h), u8(b, 0x80), u8(b, 0), u8(b, 0);
    put(b, "\0\0\0\xff\xff\xff", 6); /* a 2-colour table */
    u8(b, 0x2c), le16(b, 0), le16(b, 0), le16(b, w), le16(b, h), u8(b, 0);
    u8(b, 2), u8(b, 1), u8(b, 0x2c), u8(b, 0), u8(b, 0x3b); /* clear, eoi */
}

static void mk_psd(buf *b, uint32_t w, uint32_t h)
{
    str(b, "8BPS"), be16(b, 1), put(b, "\0\0\0\0\0\0", 6), be16(b, 3), be32(b, h), be32(b, w);
    be16(b, 8), be16(b, 3), be32(b, 0), be32(b, 0), be32(b, 0), be16(b, 0);
}

static void mk_hdr(buf *b, uint32_t w, uint32_t h)
{
    char t[96];
    snprintf(t, sizeof t, "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y %u +X %u\n", h, w);
    str(b, t);
}

static void mk_pnm(buf *b, uint32_t w, uint32_t h)
{
    char t[64];
    snprintf(t, sizeof t, "P6\n%u %u\n255\n", w, h);
    str(b, t);
}

/* SOF0 and the SOS header of its scan (libjpeg reads the header up to the first SOS), no data */
static void mk_jpeg(buf *b, uint32_t w, uint32_t h)
{
    u8(b, 0xff), u8(b, 0xd8), u8(b, 0xff), u8(b, 0xc0), be16(b, 17), u8(b, 8), be16(b, h), be16(b, w);
    u8(b, 3);
    for (int k = 1; k <= 3; k++) u8(b, (unsigned)k), u8(b, k == 1 ? 0x22 : 0x11), u8(b, 0);
    u8(b, 0xff), u8(b, 0xda), be16(b, 12), u8(b, 3);
    for (int k = 1; k <= 3; k++) u8(b, (unsigned)k), u8(b, k == 1 ? 0x00 : 0x11);
    u8(b, 0), u8(b, 63), u8(b, 0);
    u8(b, 0xff), u8(b, 0xd9);
}

typedef struct maker {
    const char *name;
    void (*make)(buf *, uint32_t, uint32_t);
    uint32_t huge; /* the largest side the format's header holds, at most 100000 */
} maker;

static const maker makers[] = {
    {"bomb.png", mk_png, 100000}, {"bomb.bmp", mk_bmp, 100000}, {"bomb.tga", mk_tga, 65535},
    {"bomb.gif", mk_gif, 65535},  {"bomb.psd", mk_psd, 100000}, {"bomb.hdr", mk_hdr, 100000},
    {"bomb.pnm", mk_pnm, 100000}, {"bomb.jpg", mk_jpeg, 65500}, /* libjpeg's largest */
};
#define NMAKERS (sizeof makers / sizeof makers[0])

Test(hostile_limits, bombs_refused_from_the_header)
{
    long peak = vm_peak_kb();
    pp_ctx *ctx = serial_ctx();
    pp_ctx *mem = serial_ctx(); /* no pixel limit to speak of: the memory limit must stop it */
    pp_ctx_set_max_pixels(mem, UINT64_MAX);
    pp_ctx_set_max_memory(mem, (uint64_t)64 << 20);
    for (size_t i = 0; i < NMAKERS; i++) {
        buf b = {0};
        makers[i].make(&b, makers[i].huge, makers[i].huge);
        cr_assert_lt(b.n, 128, "a bomb is tiny");
        pp_status st = load_fails(ctx, &b, makers[i].name);
        cr_assert_eq(st, PP_ERR_LIMIT, "%s: %s", makers[i].name, pp_ctx_last_error(ctx));
        cr_assert(strstr(pp_ctx_last_error(ctx), "limit") || strstr(pp_ctx_last_error(ctx), "too large"),
                  "%s", pp_ctx_last_error(ctx));
        st = load_fails(mem, &b, makers[i].name);
        cr_assert_eq(st, PP_ERR_LIMIT, "%s: %s", makers[i].name, pp_ctx_last_error(mem));
        cr_assert(strstr(pp_ctx_last_error(mem), "memory limit"), "%s", pp_ctx_last_error(mem));
        buf_free(&b);
    }
    cr_assert_lt(vm_peak_kb() - peak, BIG_KB, "a bomb made the decoders allocate");
    pp_ctx_free(mem);
    pp_ctx_free(ctx);
}

Test(hostile_decoders, zero_sizes)
{
    pp_ctx *ctx = serial_ctx();
    for (size_t i = 0; i < NMAKERS; i++)
        for (int k = 0; k < 2; k++) {
            buf b = {0};
            makers[i].make(&b, k ? 5 : 0, k ? 0 : 5);
            pp_status st = load_fails(ctx, &b, makers[i].name);
            cr_assert(st == PP_ERR_DECODE || st == PP_ERR_FORMAT, "%s: %d %s", makers[i].name,
                      (int)st, pp_ctx_last_error(ctx));
            buf_free(&b);
        }
    pp_ctx_free(ctx);
}

/* ---- PNG ---------------------------------------------------------------------------------------- */

/* A 4x2 palette image (8-bit indices) with `ncolours` palette entries and pixel indices idx. */
static void png_palette(buf *b, int ncolours, const uint8_t idx[8], int with_plte)
{
    png_sig(b);
    png_ihdr(b, 4, 2, 8, 3, 0);
    if (with_plte) {
        uint8_t pal[3 * 300];
        for (int i = 0; i < 3 * ncolours; i++) pal[i] = (uint8_t)(i * 7 + 1);
        png_chunk(b, "PLTE", pal, (uint32_t)(3 * ncolours));
    }
    uint8_t raw[10] = {0, idx[0], idx[1], idx[2], idx[3], 0, idx[4], idx[5], idx[6], idx[7]};
    png_idat(b, raw, sizeof raw);
    png_iend(b);
}

Test(hostile_decoders, png_structure)
{
    pp_ctx *ctx = serial_ctx();
    const uint8_t idx[8] = {0, 1, 2, 3, 3, 2, 1, 0};
    buf b = {0};
    png_palette(&b, 4, idx, 1);
    pp_image *img = load_ok(ctx, &b, "good.png");
    cr_assert_eq(pp_image_channels(img), 3);
    cr_assert_eq(pp_image_data(img)[3], 3 * 7 + 1); /* pixel 1 is palette entry 1 */
    pp_image_free(img);

    /* a wrong CRC in IHDR, IDAT or IEND */
    const size_t ihdr_crc = 8 + 8 + 13;
    for (int which = 0; which < 3; which++) {
        buf c = {0};
        put(&c, b.p, b.n);
        size_t at = which == 0 ? ihdr_crc : which == 1 ? b.n - 12 - 4 : b.n - 4;
        c.p[at] ^= 0x55;
        cr_assert_eq(load_fails(ctx, &c, "crc.png"), PP_ERR_DECODE, "%s", pp_ctx_last_error(ctx));
        buf_free(&c);
    }
    buf_free(&b);

    /* chunk lengths: over 2^31, past the end of the file, zero for IHDR */
    static const uint32_t lens[] = {0xffffffffu, 0x80000000u, 0x7ffffff0u, 1000};
    for (size_t i = 0; i < 4; i++) {
        buf c = {0};
        png_sig(&c);
        png_ihdr(&c, 4, 2, 8, 0, 0);
        be32(&c, lens[i]), str(&c, "IDAT"), put(&c, "\x78\x01\x01\x0a\x00", 5);
        cr_assert_eq(load_fails(ctx, &c, "len.png"), PP_ERR_DECODE, "%s", pp_ctx_last_error(ctx));
        buf_free(&c);
    }
    buf c = {0};
    png_sig(&c);
    png_chunk(&c, "IHDR", NULL, 0);
    png_iend(&c);
    cr_assert_eq(load_fails(ctx, &c, "ihdr0.png"), PP_ERR_DECODE);
    buf_free(&c);

    /* invalid IHDR fields: depth 3, colour type 5, interlace 2, palette of 16 bits */
    static const int bad[][3] = {{3, 0, 0}, {8, 5, 0}, {8, 2, 2}, {16, 3, 0}};
    for (size_t i = 0; i < 4; i++) {
        png_sig(&c);
        png_ihdr(&c, 4, 2, bad[i][0], bad[i][1], bad[i][2]);
        png_idat(&c, (const uint8_t *)"\0\0\0\0\0", 5);
        png_iend(&c);
        cr_assert_eq(load_fails(ctx, &c, "ihdr.png"), PP_ERR_DECODE, "%s", pp_ctx_last_error(ctx));
        buf_free(&c);
    }
    pp_ctx_free(ctx);
}

Test(hostile_decoders, png_palettes)
{
    pp_ctx *ctx = serial_ctx();
    const uint8_t idx[8] = {0, 1, 2, 3, 3, 2, 1, 0};
    buf b = {0};
    png_palette(&b, 4, idx, 0); /* no PLTE */
    cr_assert_eq(load_fails(ctx, &b, "noplte.png"), PP_ERR_DECODE, "%s", pp_ctx_last_error(ctx));
    buf_free(&b);
    png_palette(&b, 257, idx, 1); /* more than 256 entries */
    cr_assert_eq(load_fails(ctx, &b, "big.png"), PP_ERR_DECODE, "%s", pp_ctx_last_error(ctx));
    buf_free(&b);
    png_palette(&b, 0, idx, 1); /* empty PLTE */
    cr_assert_eq(load_fails(ctx, &b, "empty.png"), PP_ERR_DECODE, "%s", pp_ctx_last_error(ctx));
    buf_free(&b);

    /* a PLTE whose length is not a multiple of 3 */
    png_sig(&b);
    png_ihdr(&b, 4, 2, 8, 3, 0);
    png_chunk(&b, "PLTE", (const uint8_t *)"\1\2\3\4\5\6\7", 7);
    uint8_t raw[10] = {0};
    png_idat(&b, raw, sizeof raw);
    png_iend(&b);
    cr_assert_eq(load_fails(ctx, &b, "plte7.png"), PP_ERR_DECODE, "%s", pp_ctx_last_error(ctx));
    buf_free(&b);

    /* indices beyond a 2-entry palette: black (libpng's table is zeroed) or an error, and the
       same every time (valgrind and the determinism check would see stale memory) */
    const uint8_t far[8] = {0, 1, 2, 200, 255, 1, 0, 7};
    png_palette(&b, 2, far, 1);
    pp_image *x = NULL, *y = NULL;
    pp_status sx = pp_load_mem(ctx, b.p, b.n, "far.png", &x);
    pp_status sy = pp_load_mem(ctx, b.p, b.n, "far.png", &y);
    cr_assert_eq(sx, sy);
    if (sx == PP_OK) {
        cr_assert(th_same(x, y));
        for (int k = 0; k < 3; k++) cr_assert_eq(pp_image_data(x)[2 * 3 + k], 0);
    }
    pp_image_free(x);
    pp_image_free(y);
    buf_free(&b);

    /* a tRNS longer than the palette */
    png_sig(&b);
    png_ihdr(&b, 4, 2, 8, 3, 0);
    png_chunk(&b, "PLTE", (const uint8_t *)"\1\2\3\4\5\6", 6);
    png_chunk(&b, "tRNS", (const uint8_t *)"\1\2\3\4\5\6\7\10", 8);
    png_idat(&b, raw, sizeof raw);
    png_iend(&b);
    sx = pp_load_mem(ctx, b.p, b.n, "trns.png", &x);
    if (sx == PP_OK) pp_image_free(x);
    else load_fails(ctx, &b, "trns.png");
    buf_free(&b);
    pp_ctx_free(ctx);
}

/* ---- BMP, TGA, GIF ----------------------------------------------------------------------------- */

/* An 8-bit BMP of 4x2 pixels with `ncolours` palette entries, pixel data at `offset` (0: right
   after the palette; an offset of 4096 or more is written but not honoured). */
static void bmp8(buf *b, int ncolours, const uint8_t idx[8], uint32_t offset, int32_t height)
{
    uint32_t off = offset ? offset : 54 + 4 * (uint32_t)ncolours;
    str(b, "BM"), le32(b, off + 8), le32(b, 0), le32(b, off);
    le32(b, 40), le32(b, 4), le32(b, (uint32_t)height), le16(b, 1), le16(b, 8), le32(b, 0);
    le32(b, 8), le32(b, 2835), le32(b, 2835), le32(b, (uint32_t)ncolours), le32(b, 0);
    for (int i = 0; i < ncolours; i++) u8(b, 10u * i), u8(b, 20u * i), u8(b, 30u * i), u8(b, 0);
    while (b->n < off && off < 4096) u8(b, 0); /* a far offset points past the end */
    put(b, idx, 8);
}

Test(hostile_decoders, bmp)
{
    pp_ctx *ctx = serial_ctx();
    const uint8_t idx[8] = {0, 1, 2, 3, 3, 2, 1, 0}, far[8] = {0, 1, 200, 255, 0, 1, 0, 1};
    buf b = {0};
    bmp8(&b, 4, idx, 0, 2);
    pp_image_free(load_ok(ctx, &b, "good.bmp"));
    buf_free(&b);
    bmp8(&b, 4, idx, 0, -2); /* top-down */
    pp_image_free(load_ok(ctx, &b, "topdown.bmp"));
    buf_free(&b);
    bmp8(&b, 2, far, 0, 2); /* indices beyond the palette (regression) */
    cr_assert_eq(load_fails(ctx, &b, "far.bmp"), PP_ERR_DECODE);
    cr_assert(strstr(pp_ctx_last_error(ctx), "beyond"), "%s", pp_ctx_last_error(ctx));
    buf_free(&b);
    bmp8(&b, 0, idx, 50, 2); /* a pixel offset inside the header: no room for a palette */
    load_fails(ctx, &b, "nopal.bmp");
    buf_free(&b);
    bmp8(&b, 4, idx, 0, INT32_MIN); /* |height| overflows */
    load_fails(ctx, &b, "intmin.bmp");
    buf_free(&b);
    bmp8(&b, 4, idx, 0x7fffffff, 2); /* pixel data far past the end */
    load_fails(ctx, &b, "offset.bmp");
    buf_free(&b);
    /* bits per pixel 3, and a huge colour count */
    bmp8(&b, 4, idx, 0, 2);
    b.p[28] = 3;
    load_fails(ctx, &b, "bpp3.bmp");
    b.p[28] = 8;
    b.p[46] = b.p[47] = b.p[48] = b.p[49] = 0xff;
    pp_image *img = NULL;
    if (pp_load_mem(ctx, b.p, b.n, "colours.bmp", &img) == PP_OK) pp_image_free(img);
    else load_fails(ctx, &b, "colours.bmp");
    buf_free(&b);
    pp_ctx_free(ctx);
}

Test(hostile_decoders, tga_and_gif)
{
    pp_ctx *ctx = serial_ctx();
    buf b = {0};
    /* a colour-mapped TGA whose map is cut short, and one whose pixels index past the map */
    u8(&b, 0), u8(&b, 1), u8(&b, 1), le16(&b, 0), le16(&b, 200), u8(&b, 24);
    le16(&b, 0), le16(&b, 0), le16(&b, 2), le16(&b, 2), u8(&b, 8), u8(&b, 0x20);
    put(&b, "\1\2\3\4\5\6", 6);
    load_fails(ctx, &b, "map.tga");
    buf_free(&b);
    u8(&b, 0), u8(&b, 1), u8(&b, 1), le16(&b, 0), le16(&b, 2), u8(&b, 24);
    le16(&b, 0), le16(&b, 0), le16(&b, 2), le16(&b, 2), u8(&b, 8), u8(&b, 0x20);
    put(&b, "\1\2\3\4\5\6", 6);
    put(&b, "\0\1\7\xff", 4);
    pp_image *x = NULL, *y = NULL;
    pp_status sx = pp_load_mem(ctx, b.p, b.n, "index.tga", &x);
    pp_status sy = pp_load_mem(ctx, b.p, b.n, "index.tga", &y);
    cr_assert_eq(sx, sy);
    if (sx == PP_OK) cr_assert(th_same(x, y));
    else load_fails(ctx, &b, "index.tga");
    pp_image_free(x);
    pp_image_free(y);
    buf_free(&b);

    /* GIF: an LZW code size over 12, an undefined code, an image outside the screen, no image */
    static const uint8_t gif_bad[][8] = {
        {13, 2, 0x00, 0x00, 0, 0, 0, 0},    /* min code size 13 */
        {2, 2, 0x3c, 0x00, 0, 0, 0, 0},     /* clear (4), then code 7 before it exists */
    };
    for (int i = 0; i < 2; i++) {
        str(&b, "GIF89a"), le16(&b, 2), le16(&b, 2), u8(&b, 0x81), u8(&b, 0), u8(&b, 0);
        put(&b, "\0\0\0\xff\xff\xff\1\1\1\2\2\2", 12);
        u8(&b, 0x2c), le16(&b, 0), le16(&b, 0), le16(&b, 2), le16(&b, 2), u8(&b, 0);
        put(&b, gif_bad[i], 4);
        u8(&b, 0), u8(&b, 0x3b);
        load_fails(ctx, &b, "lzw.gif");
        buf_free(&b);
    }
    str(&b, "GIF89a"), le16(&b, 2), le16(&b, 2), u8(&b, 0), u8(&b, 0), u8(&b, 0);
    u8(&b, 0x2c), le16(&b, 1), le16(&b, 1), le16(&b, 60000), le16(&b, 60000), u8(&b, 0);
    u8(&b, 2), u8(&b, 1), u8(&b, 0x2c), u8(&b, 0), u8(&b, 0x3b);
    load_fails(ctx, &b, "outside.gif");
    buf_free(&b);
    str(&b, "GIF89a"), le16(&b, 2), le16(&b, 2), u8(&b, 0), u8(&b, 0), u8(&b, 0), u8(&b, 0x3b);
    load_fails(ctx, &b, "noimage.gif");
    buf_free(&b);
    pp_ctx_free(ctx);
}

/* ---- PSD (its own decoder: found by fuzzing stb's) --------------------------------------------- */

static void psd_head(buf *b, int channels, uint32_t w, uint32_t h, int depth, int mode, int comp)
{
    str(b, "8BPS"), be16(b, 1), put(b, "\0\0\0\0\0\0", 6), be16(b, (unsigned)channels);
    be32(b, h), be32(b, w), be16(b, (unsigned)depth), be16(b, (unsigned)mode);
    be32(b, 0), be32(b, 0), be32(b, 0), be16(b, (unsigned)comp);
}

Test(hostile_decoders, psd)
{
    pp_ctx *ctx = serial_ctx();
    buf b = {0};
    /* RGBA, 8 bits, raw: colour below the white matte clamps to 0 (stb: undefined) */
    psd_head(&b, 4, 2, 1, 8, 3, 0);
    put(&b, "\x10\xf0" "\x10\xf0" "\x10\xf0" "\x80\x80", 8);
    pp_image *img = load_ok(ctx, &b, "matte.psd");
    const uint8_t *d = pp_image_data(img);
    cr_assert_eq(d[0], 0);   /* 0x10 / 0.502 + 255 (1 - 1 / 0.502) < 0 */
    cr_assert_eq(d[3], 128); /* alpha kept */
    cr_assert_eq(d[4], 225); /* (240 - 127) / 0.502 = 225.1 */
    pp_image_free(img);
    buf_free(&b);

    /* 16-bit RLE: one literal run per channel of 2 samples = 4 bytes */
    psd_head(&b, 3, 2, 1, 16, 3, 1);
    for (int k = 0; k < 3; k++) be16(&b, 5);
    for (int k = 0; k < 3; k++) u8(&b, 3), be16(&b, 0x0000), be16(&b, 0xffff);
    img = load_ok(ctx, &b, "rle16.psd");
    d = pp_image_data(img);
    cr_assert_eq(pp_image_channels(img), 3); /* RGB in the file: no alpha made up */
    cr_assert_eq(pp_image_depth(img), 16);   /* kept at 16 bits */
    const uint16_t *d16 = (const uint16_t *)(const void *)d;
    cr_assert(d16[0] == 0 && d16[1] == 0 && d16[2] == 0 && d16[3] == 65535 && d16[4] == 65535 &&
              d16[5] == 65535);
    pp_image_free(img);
    buf_free(&b);

    /* a run longer than the channel, a truncated plane, a section past the end */
    psd_head(&b, 3, 2, 1, 8, 3, 1);
    for (int k = 0; k < 3; k++) be16(&b, 2);
    for (int k = 0; k < 3; k++) u8(&b, 0xfd), u8(&b, 7); /* 4 repeats of 7 into 2 samples */
    cr_assert_eq(load_fails(ctx, &b, "run.psd"), PP_ERR_DECODE);
    buf_free(&b);
    psd_head(&b, 3, 4, 4, 8, 3, 0);
    put(&b, "\1\2\3", 3);
    cr_assert_eq(load_fails(ctx, &b, "short.psd"), PP_ERR_DECODE);
    buf_free(&b);
    str(&b, "8BPS"), be16(&b, 1), put(&b, "\0\0\0\0\0\0", 6), be16(&b, 3), be32(&b, 1), be32(&b, 1);
    be16(&b, 8), be16(&b, 3), be32(&b, 0xfffffff0u);
    cr_assert_eq(load_fails(ctx, &b, "section.psd"), PP_ERR_DECODE);
    buf_free(&b);

    /* unsupported: 57 channels, 0 channels, 32 bits, grayscale mode, ZIP compression, version 2 */
    static const int bad[][5] = {{57, 8, 3, 0, PP_ERR_DECODE}, {0, 8, 3, 0, PP_ERR_DECODE},
                                 {3, 32, 3, 0, PP_ERR_FORMAT}, {3, 8, 1, 0, PP_ERR_FORMAT},
                                 {3, 8, 3, 2, PP_ERR_FORMAT}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        psd_head(&b, bad[i][0], 1, 1, bad[i][1], bad[i][2], bad[i][3]);
        put(&b, "\0\0\0\0\0\0\0\0", 8);
        cr_assert_eq(load_fails(ctx, &b, "bad.psd"), (pp_status)bad[i][4], "%zu: %s", i,
                     pp_ctx_last_error(ctx));
        buf_free(&b);
    }
    psd_head(&b, 3, 1, 1, 8, 3, 0);
    b.p[5] = 2;
    cr_assert_eq(load_fails(ctx, &b, "v2.psd"), PP_ERR_FORMAT);
    buf_free(&b);
    pp_ctx_free(ctx);
}

Test(hostile_decoders, pnm_and_hdr)
{
    pp_ctx *ctx = serial_ctx();
#define T(s) {s, sizeof s - 1}
    static const struct { const char *p; size_t n; } bad[] = {
        T("P5\n2 2\n0\n\0\0\0\0"),            T("P5\n2 2\n65536\n\0\0\0\0"),
        T("P2\n2 1\n9\n3 10\n"),                 T("P5\n2147483648 1\n255\n\0"),
        T("P6\n-2 2\n255\n"),                     T("P3\n1 1\n255\n1 2\n"),
        T("#?RADIANCE\n\n-Y 0 +X 4\n"),           T("#?RADIANCE\nFORMAT=32-bit_rle_xyze\n\n-Y 1 +X 1\n\0\0\0\0"),
        T("#?RADIANCE\n\n+Y 1 +X 1\n\0\0\0\0"), T("#?RADIANCE\n\n-Y 1 +X 8\n\2\2\0\10\0"),
    };
#undef T
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf b = {0};
        put(&b, bad[i].p, bad[i].n);
        load_fails(ctx, &b, "bad");
        buf_free(&b);
    }
    pp_ctx_free(ctx);
}

/* ---- the memory limit ---------------------------------------------------------------------------- */

Test(hostile_limits, memory_limit_api)
{
    pp_ctx *ctx = pp_ctx_new();
    uint64_t def = pp_ctx_max_memory(ctx);
    cr_assert_geq(def, (uint64_t)256 << 20);
    cr_assert_leq(def, (uint64_t)16 << 30);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, 0), PP_ERR_INVALID);
    cr_assert_neq(pp_ctx_last_error(ctx)[0], '\0');
    cr_assert_eq(pp_ctx_max_memory(ctx), def);
    cr_assert_eq(pp_ctx_set_max_memory(NULL, 5), PP_ERR_INVALID);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, 12345), PP_OK);
    cr_assert_eq(pp_ctx_max_memory(ctx), 12345);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, UINT64_MAX), PP_OK);

    /* pp_image_new counts, pp_image_wrap does not (it allocates nothing) */
    pp_ctx_set_max_memory(ctx, 1000);
    pp_image *img = (pp_image *)1;
    cr_assert_eq(pp_image_new(ctx, 100, 100, 1, &img), PP_ERR_LIMIT);
    cr_assert_null(img);
    cr_assert(strstr(pp_ctx_last_error(ctx), "memory limit"), "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_image_new(ctx, 10, 10, 4, &img), PP_OK);
    pp_image_free(img);
    static uint8_t px[100 * 100];
    cr_assert_eq(pp_image_wrap(ctx, px, 100, 100, 1, 0, &img), PP_OK);
    pp_image_free(img);

    /* a load: the image and the decoder's buffers */
    pp_ctx *big = pp_ctx_new();
    pp_image *src = th_random_image(big, 64, 64, 3, 1);
    void *png;
    size_t size;
    cr_assert_eq(pp_save_mem(big, src, PP_FORMAT_PNG, &png, &size), PP_OK);
    pp_ctx_set_max_memory(ctx, 64 * 64 * 3 - 1);
    cr_assert_eq(pp_load_mem(ctx, png, size, "m.png", &img), PP_ERR_LIMIT);
    cr_assert(strstr(pp_ctx_last_error(ctx), "m.png: "), "%s", pp_ctx_last_error(ctx));
    pp_ctx_set_max_memory(ctx, 64 * 64 * 3 + 64 * 8); /* the image and libpng's row table */
    cr_assert_eq(pp_load_mem(ctx, png, size, "m.png", &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    pp_image_free(img);
    free(png);
    pp_image_free(src);
    pp_ctx_free(big);
    pp_ctx_free(ctx);
}

/* Runs spec on a 64x64 RGB image with the given backend and memory limit. */
static pp_status run_limited(pp_backend backend, uint64_t limit, const char *spec, pp_ctx **keep)
{
    pp_ctx *ctx = th_ctx(backend, 2);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, limit), PP_OK);
    static uint8_t px[64 * 64 * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 31);
    pp_image *in = NULL, *out = NULL;
    cr_assert_eq(pp_image_wrap(ctx, px, 64, 64, 3, 0, &in), PP_OK);
    pp_pipeline *pl = NULL;
    cr_assert_eq(pp_pipeline_new(ctx, &pl), PP_OK);
    char copy[256];
    snprintf(copy, sizeof copy, "%s", spec);
    for (char *save = NULL, *s = strtok_r(copy, " ", &save); s; s = strtok_r(NULL, " ", &save))
        cr_assert_eq(pp_pipeline_add_spec(ctx, pl, s), PP_OK, "%s", pp_ctx_last_error(ctx));
    pp_status st = pp_pipeline_run(ctx, pl, in, &out);
    if (st) {
        cr_assert_null(out);
        cr_assert_neq(pp_ctx_last_error(ctx)[0], '\0');
    }
    pp_image_free(out);
    pp_image_free(in);
    pp_pipeline_free(pl);
    if (keep) *keep = ctx;
    else pp_ctx_free(ctx);
    return st;
}

Test(hostile_limits, pipeline_memory)
{
    const uint64_t image = 64 * 64 * 3; /* 12 KiB */
    static const pp_backend backends[] = {PP_BACKEND_SERIAL, PP_BACKEND_OPENMP, PP_BACKEND_FORK};
    for (int b = 0; b < 3; b++) {
        pp_ctx *ctx;
        /* resize up: the output alone is over the limit */
        cr_assert_eq(run_limited(backends[b], 100000, "resize:scale=4", &ctx), PP_ERR_LIMIT);
        const char *msg = pp_ctx_last_error(ctx);
        cr_assert(strstr(msg, "resize:scale=4") && strstr(msg, "memory limit"), "%s", msg);
        pp_ctx_free(ctx);
        /* the output, the tap tables and the scratch of two workers fit */
        cr_assert_eq(run_limited(backends[b], 16 * image + 65536, "resize:scale=4", NULL), PP_OK);
        /* two filters: each output fits, but two images live at once (serial, OpenMP: the two
           outputs; fork: the input's copy and the first output, the second output reusing the
           copy's buffer) do not */
        cr_assert_eq(run_limited(backends[b], 2 * image - 1, "invert invert", &ctx),
                     PP_ERR_LIMIT);
        cr_assert(strstr(pp_ctx_last_error(ctx), "already held"), "%s", pp_ctx_last_error(ctx));
        pp_ctx_free(ctx);
        cr_assert_eq(run_limited(backends[b], 2 * image, "invert invert", NULL), PP_OK);
        /* kernel scratch: median radius 100 keeps 201 padded rows */
        cr_assert_eq(run_limited(backends[b], 8 * image, "median:radius=100", NULL), PP_ERR_LIMIT);
    }
    /* the fork backend copies a heap input into shared memory: that copy counts */
    cr_assert_eq(run_limited(PP_BACKEND_SERIAL, image + 10, "invert", NULL), PP_OK);
    cr_assert_eq(run_limited(PP_BACKEND_FORK, image + 10, "invert", NULL), PP_ERR_LIMIT);
}

/* ---- overflow-checked sizes --------------------------------------------------------------------- */

Test(hostile_sizes, images_and_strides)
{
    pp_ctx *ctx = serial_ctx();
    pp_image *img = (pp_image *)1;
    cr_assert_eq(pp_image_new(ctx, INT32_MAX, INT32_MAX, 4, &img), PP_ERR_LIMIT);
    cr_assert_null(img);
    cr_assert_eq(pp_image_new(ctx, -1, 5, 3, &img), PP_ERR_INVALID);
    cr_assert_eq(pp_image_new(ctx, 5, 5, 5, &img), PP_ERR_INVALID);
    cr_assert_eq(pp_image_new(ctx, 1 << 20, 1 << 20, 1, &img), PP_ERR_LIMIT); /* 2^40 pixels */
    pp_ctx_set_max_pixels(ctx, UINT64_MAX);
    cr_assert_eq(pp_image_new(ctx, INT32_MAX / 4, INT32_MAX / 4, 4, &img), PP_ERR_LIMIT);
    cr_assert(strstr(pp_ctx_last_error(ctx), "memory limit"), "%s", pp_ctx_last_error(ctx));
    pp_ctx_set_max_memory(ctx, UINT64_MAX); /* 2^60 bytes: the allocation itself fails */
    pp_status st = pp_image_new(ctx, INT32_MAX / 4, INT32_MAX / 4, 4, &img);
    cr_assert(st == PP_ERR_NOMEM || st == PP_ERR_LIMIT, "%d", (int)st);
    cr_assert_null(img);

    static uint8_t px[64];
    cr_assert_eq(pp_image_wrap(ctx, px, 4, 4, 3, 11, &img), PP_ERR_INVALID); /* stride < row */
    cr_assert_eq(pp_image_wrap(ctx, px, 4, 3, 3, SIZE_MAX / 2, &img), PP_ERR_INVALID);
    cr_assert(strstr(pp_ctx_last_error(ctx), "overflow"), "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_image_wrap(ctx, px, 1, 1, 1, SIZE_MAX / 2, &img), PP_OK); /* one row */
    pp_image_free(img);
    pp_ctx_free(ctx);
}

Test(hostile_sizes, filter_parameters_overflow)
{
    pp_ctx *ctx = serial_ctx();
    pp_image *in = th_random_image(ctx, 7, 5, 3, 2);
    static const char *const spec_errors[] = {
        "crop:x=1000000000,y=1000000000,width=1000000000,height=1000000000",
        "crop:x=6,width=2", "crop:y=5", "crop:x=3,y=3,width=1000000000",
        "resize:width=1000000000", "resize:width=1000000000,height=1000000000",
        "resize:scale=1000000", "resize:scale=0.000001", "resize:height=1000000000",
        "resize:width=70000,height=1", "resize:width=65535,height=65535",
    };
    for (size_t i = 0; i < sizeof spec_errors / sizeof spec_errors[0]; i++) {
        pp_image *out = (pp_image *)1;
        pp_status st = pp_apply(ctx, spec_errors[i], in, &out);
        cr_assert(st == PP_ERR_SPEC || st == PP_ERR_LIMIT, "%s: %d %s", spec_errors[i], (int)st,
                  pp_ctx_last_error(ctx));
        cr_assert_null(out);
        cr_assert_neq(pp_ctx_last_error(ctx)[0], '\0');
    }
    /* out of the schema's range, or not numbers at all: refused when parsed */
    static const char *const parse_errors[] = {
        "box:radius=501", "median:radius=1e300", "gaussian:sigma=inf", "gaussian:sigma=nan",
        "crop:x=-1", "resize:width=2147483648", "convolve:kernel=1e7", "box:radius=1.5",
        "gaussian:radius=4294967297", "bilateral:d=122",
    };
    pp_pipeline *pl;
    cr_assert_eq(pp_pipeline_new(ctx, &pl), PP_OK);
    for (size_t i = 0; i < sizeof parse_errors / sizeof parse_errors[0]; i++)
        cr_assert_eq(pp_pipeline_add_spec(ctx, pl, parse_errors[i]), PP_ERR_SPEC, "%s",
                     parse_errors[i]);
    const char *key = "radius";
    const double vals[] = {1e300, -1e300, INFINITY, NAN, 2147483648.0, 0.5};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        cr_assert_eq(pp_pipeline_add(ctx, pl, "box", 1, &key, &vals[i]), PP_ERR_SPEC);
    cr_assert_eq(pp_pipeline_length(pl), 0);
    pp_pipeline_free(pl);

    /* kernels far larger than the image: edges extended, so a constant image stays constant */
    pp_image *flat = NULL;
    cr_assert_eq(pp_image_new(ctx, 3, 2, 1, &flat), PP_OK);
    memset(pp_image_data(flat), 77, 6);
    static const char *const wide[] = {"box:radius=500", "median:radius=100", "erode:radius=100",
                                       "dilate:radius=100", "gaussian:sigma=60,radius=200",
                                       "bilateral:d=121", "unsharp:sigma=60,amount=20"};
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        pp_image *out = th_apply(ctx, wide[i], flat);
        cr_assert(th_same(out, flat), "%s", wide[i]);
        pp_image_free(out);
    }
    pp_image_free(flat);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

/* ---- every parameter of every filter at its extremes --------------------------------------------- */

/* The value text of parameter pi: 0 minimum, 1 maximum, 2 default. */
static void value_text(const pp_param_info *pi, int which, char *out, size_t len)
{
    if (pi->type == PP_PARAM_ENUM) {
        int n = 0;
        while (pi->choices[n]) n++;
        snprintf(out, len, "%s", pi->choices[which == 0 ? 0 : which == 1 ? n - 1 : (int)pi->def]);
    } else if (pi->type == PP_PARAM_LIST) {
        /* the smallest kernel at the minimum, the largest at the maximum, sharpen otherwise */
        if (which == 2) {
            snprintf(out, len, "0/-1/0/-1/5/-1/0/-1/0");
        } else {
            size_t off = 0;
            for (int i = 0; i < (which == 0 ? 1 : 225) && off < len; i++)
                off += (size_t)snprintf(out + off, len - off, "%s%.17g", i ? "/" : "",
                                        which == 0 ? pi->min : pi->max);
        }
    } else {
        snprintf(out, len, "%.17g", which == 0 ? pi->min : which == 1 ? pi->max : pi->def);
    }
}

/* Specs for filter fi: all defaults, then each parameter at its minimum, maximum and default
   (a required parameter always given; of a group - resize's width/height/scale - the one
   varied, or the first when another parameter is). Returns how many. */
static int extreme_specs(const pp_filter_info *fi, char specs[][4096], int max)
{
    int n = 0;
    char val[4000];
    for (int k = -1; k < fi->nparams && n < max; k++)
        for (int which = 0; which < (k < 0 ? 1 : 3) && n < max; which++) {
            size_t off = (size_t)snprintf(specs[n], 4096, "%s", fi->name);
            char sep = ':';
            int group_done = 0;
            for (int j = 0; j < fi->nparams; j++) {
                const pp_param_info *pj = &fi->params[j];
                int give = j == k || pj->required == PP_PARAM_REQUIRED;
                if (pj->required == PP_PARAM_GROUP && !give &&
                    (k < 0 || fi->params[k].required != PP_PARAM_GROUP) && !group_done)
                    give = 1; /* the group's first member, at a small size */
                if (!give) continue;
                if (pj->required == PP_PARAM_GROUP) group_done = 1;
                if (j == k) value_text(pj, which, val, sizeof val);
                else if (pj->required == PP_PARAM_GROUP) snprintf(val, sizeof val, "3");
                else value_text(pj, 2, val, sizeof val);
                off += (size_t)snprintf(specs[n] + off, 4096 - off, "%c%s=%s", sep, pj->name, val);
                sep = ',';
            }
            n++;
        }
    return n;
}

Test(hostile_extremes, every_parameter_every_backend, .timeout = 600)
{
    pp_ctx *ctxs[3] = {th_ctx(PP_BACKEND_SERIAL, 1), th_ctx(PP_BACKEND_OPENMP, 3),
                       th_ctx(PP_BACKEND_FORK, 2)};
    pp_ctx_set_band_rows(ctxs[1], 1);
    static const int sizes[][3] = {{1, 1, 4}, {1, 9, 3}, {9, 1, 2}, {2, 2, 1}, {2, 2, 4}, {1, 1, 1}};
    pp_image *inputs[6];
    for (int s = 0; s < 6; s++)
        inputs[s] = th_random_image(ctxs[0], sizes[s][0], sizes[s][1], sizes[s][2], (uint32_t)s + 7);
    static char specs[64][4096];
    int runs = 0, oks = 0;
    for (int f = 0; f < pp_filter_count(); f++) {
        const pp_filter_info *fi = pp_filter_at(f);
        int nspecs = extreme_specs(fi, specs, 64);
        for (int i = 0; i < nspecs; i++) {
            pp_pipeline *pl;
            cr_assert_eq(pp_pipeline_new(ctxs[0], &pl), PP_OK);
            cr_assert_eq(pp_pipeline_add_spec(ctxs[0], pl, specs[i]), PP_OK, "%.200s: %s",
                         specs[i], pp_ctx_last_error(ctxs[0]));
            for (int s = 0; s < 6; s++) {
                pp_image *out[3] = {NULL, NULL, NULL};
                pp_status st[3];
                for (int b = 0; b < 3; b++) {
                    st[b] = pp_pipeline_run(ctxs[b], pl, inputs[s], &out[b]);
                    if (st[b] != PP_OK) {
                        cr_assert(st[b] == PP_ERR_SPEC || st[b] == PP_ERR_LIMIT,
                                  "%.200s on %dx%dx%d, backend %d: status %d: %s", specs[i],
                                  sizes[s][0], sizes[s][1], sizes[s][2], b, (int)st[b],
                                  pp_ctx_last_error(ctxs[b]));
                        cr_assert_neq(pp_ctx_last_error(ctxs[b])[0], '\0');
                        cr_assert_null(out[b]);
                    }
                }
                runs++;
                cr_assert(st[1] == st[0] && st[2] == st[0], "%.200s on %dx%dx%d: %d %d %d",
                          specs[i], sizes[s][0], sizes[s][1], sizes[s][2], (int)st[0],
                          (int)st[1], (int)st[2]);
                if (st[0] == PP_OK) {
                    oks++;
                    cr_assert(th_same(out[0], out[1]) && th_same(out[0], out[2]),
                              "%.200s on %dx%dx%d: the backends differ", specs[i], sizes[s][0],
                              sizes[s][1], sizes[s][2]);
                }
                if (i == 0) /* all defaults (required ones given) must work on any image */
                    cr_assert_eq(st[0], PP_OK, "%.200s on %dx%dx%d: %s", specs[i], sizes[s][0],
                                 sizes[s][1], sizes[s][2], pp_ctx_last_error(ctxs[0]));
                for (int b = 0; b < 3; b++) pp_image_free(out[b]);
            }
            pp_pipeline_free(pl);
        }
    }
    cr_log_info("%d runs, %d succeeded", runs, oks);
    cr_assert_gt(oks, runs / 2);
    for (int s = 0; s < 6; s++) pp_image_free(inputs[s]);
    for (int b = 0; b < 3; b++) pp_ctx_free(ctxs[b]);
}

/* Extremes whose result is known exactly. */
Test(hostile_extremes, known_results)
{
    pp_ctx *ctx = serial_ctx();
    pp_image *g = th_random_image(ctx, 9, 1, 1, 3), *one = th_random_image(ctx, 1, 1, 3, 4);
    static const char *const identity[] = {"box:radius=0", "median:radius=0", "erode:radius=0",
                                           "dilate:radius=0", "gaussian:sigma=0.1",
                                           "unsharp:amount=0", "posterize:levels=256",
                                           "gamma:g=1", "resize:width=9,height=1",
                                           "crop", "convolve:kernel=1", "bilateral:sigma_s=0.1,sigma_r=0.1"};
    for (size_t i = 0; i < sizeof identity / sizeof identity[0]; i++) {
        pp_image *out = th_apply(ctx, identity[i], g);
        cr_assert(th_same(out, g), "%s is not the identity", identity[i]);
        pp_image_free(out);
    }
    /* scaled to 1x1 and back up: every method keeps a 1x1 image's value */
    static const char *const methods[] = {"nearest", "bilinear", "bicubic", "lanczos3"};
    for (int m = 0; m < 4; m++) {
        char spec[64];
        snprintf(spec, sizeof spec, "resize:width=5,height=3,method=%s", methods[m]);
        pp_image *up = th_apply(ctx, spec, one);
        for (int i = 0; i < 15; i++)
            for (int k = 0; k < 3; k++)
                cr_assert_eq(pp_image_data(up)[i * 3 + k], pp_image_data(one)[k], "%s", spec);
        snprintf(spec, sizeof spec, "resize:width=1,height=1,method=%s", methods[m]);
        pp_image *down = th_apply(ctx, spec, up);
        cr_assert(th_same(down, one), "%s", spec);
        pp_image_free(up);
        pp_image_free(down);
    }
    pp_image_free(g);
    pp_image_free(one);
    pp_ctx_free(ctx);
}

/* ---- the CLI's --max-memory ---------------------------------------------------------------------- */

/* TMPDIR, or /tmp. */
static const char *tmp_base(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

/* Runs a shell command line; returns its exit status and leaves stderr in err (if not NULL). */
static int sh(const char *cmd, char *err, size_t errlen)
{
    char errfile[512];
    snprintf(errfile, sizeof errfile, "%s/pp-hostile-err-XXXXXX", tmp_base());
    int fd = mkstemp(errfile);
    cr_assert_geq(fd, 0);
    close(fd);
    char full[8192];
    snprintf(full, sizeof full, "%s 2>'%s' >/dev/null", cmd, errfile);
    int rc = system(full);
    if (err) {
        FILE *f = fopen(errfile, "r");
        size_t n = f ? fread(err, 1, errlen - 1, f) : 0;
        err[n] = '\0';
        if (f) fclose(f);
    }
    unlink(errfile);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(hostile_cli, max_memory, .timeout = 120)
{
    const char *cli = getenv("PP_TEST_CLI");
    if (!cli) cr_skip_test("PP_TEST_CLI is not set (run through ctest)");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/pp-hostile-cli-XXXXXX", tmp_base());
    cr_assert_not_null(mkdtemp(dir));
    char in[400], out[400], indir[300], outdir[300], cmd[4096], err[4096];
    snprintf(indir, sizeof indir, "%s/in", dir);
    snprintf(outdir, sizeof outdir, "%s/out", dir);
    cr_assert_eq(mkdir(indir, 0777), 0);
    snprintf(in, sizeof in, "%s/a.png", indir);
    snprintf(out, sizeof out, "%s/b.png", dir);
    pp_ctx *ctx = serial_ctx();
    pp_image *img = th_random_image(ctx, 40, 30, 3, 9);
    cr_assert_eq(pp_save(ctx, img, in), PP_OK);
    pp_image_free(img);
    pp_ctx_free(ctx);

    snprintf(cmd, sizeof cmd, "'%s' apply --max-memory 1K -f invert '%s' '%s'", cli, in, out);
    cr_assert_eq(sh(cmd, err, sizeof err), 1, "%s", err);
    cr_assert(strstr(err, "memory limit") && strstr(err, "a.png"), "%s", err);
    snprintf(cmd, sizeof cmd, "'%s' apply --max-memory 8k -f resize:scale=8 '%s' '%s'", cli, in, out);
    cr_assert_eq(sh(cmd, err, sizeof err), 1, "%s", err);
    cr_assert(strstr(err, "resize:scale=8") && strstr(err, "memory limit"), "%s", err);
    snprintf(cmd, sizeof cmd, "'%s' apply --max-memory 64M -f resize:scale=8 '%s' '%s'", cli, in, out);
    cr_assert_eq(sh(cmd, err, sizeof err), 0, "%s", err);
    static const char *const bad[] = {"0", "-5", "4X", "1KB2", "", "99999999999T", "G"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "'%s' apply --max-memory '%s' -f invert '%s' '%s'", cli, bad[i],
                 in, out);
        cr_assert_eq(sh(cmd, err, sizeof err), 2, "'%s': %s", bad[i], err);
        cr_assert(strstr(err, "--max-memory"), "%s", err);
    }
    snprintf(cmd, sizeof cmd, "'%s' batch --max-memory 1K -f invert '%s' '%s'", cli, indir, outdir);
    cr_assert_eq(sh(cmd, err, sizeof err), 1, "%s", err);
    cr_assert(strstr(err, "memory limit"), "%s", err);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
