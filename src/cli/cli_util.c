/*
 * cli_util.c - what the commands of src/cli/ share: error messages, option value parsing, exit
 * codes and the JSON string writer of the bench and batch reports. It calls no command.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pixpool: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_parse_backend(const char *s)
{
    if (strcmp(s, "serial") == 0) return PP_BACKEND_SERIAL;
    if (strcmp(s, "openmp") == 0) return PP_BACKEND_OPENMP;
    if (strcmp(s, "fork") == 0) return PP_BACKEND_FORK;
    return -1;
}

int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        cli_error("%s: '%s' is not an integer in %ld..%ld", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_subsample(const char *s, int *out)
{
    static const char *const names[] = {"auto", "444", "422", "420"};
    static const pp_jpeg_subsample modes[] = {PP_SUBSAMPLE_AUTO, PP_SUBSAMPLE_444,
                                              PP_SUBSAMPLE_422, PP_SUBSAMPLE_420};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (int)modes[i];
            return 0;
        }
    cli_error("--jpeg-subsample: '%s' is not one of auto, 444, 422, 420", s);
    return -1;
}

int cli_parse_tiff_compression(const char *s, int *out)
{
    static const char *const names[] = {"none", "lzw", "deflate", "packbits"};
    static const pp_tiff_compression modes[] = {PP_TIFF_NONE, PP_TIFF_LZW, PP_TIFF_DEFLATE,
                                                PP_TIFF_PACKBITS};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (int)modes[i];
            return 0;
        }
    cli_error("--tiff-compression: '%s' is not one of none, lzw, deflate, packbits", s);
    return -1;
}

int cli_parse_depth(const char *s, int *out)
{
    if (strcmp(s, "8") == 0 || strcmp(s, "16") == 0) {
        *out = atoi(s);
        return 0;
    }
    cli_error("--depth: '%s' is not 8 or 16", s);
    return -1;
}

pp_status cli_depth_for_filters(pp_ctx *ctx, int depth, pp_image **img)
{
    if (depth != 16 || pp_image_depth(*img) == 16) return PP_OK;
    pp_image *wide;
    pp_status st = pp_image_convert_depth(ctx, *img, 16, &wide);
    if (st) return st;
    pp_image_free(*img);
    *img = wide;
    return PP_OK;
}

pp_format cli_format_from_name(const char *s)
{
    static const struct { const char *name; pp_format f; } names[] = {
        {"png", PP_FORMAT_PNG}, {"jpg", PP_FORMAT_JPEG}, {"jpeg", PP_FORMAT_JPEG},
        {"bmp", PP_FORMAT_BMP}, {"tga", PP_FORMAT_TGA},  {"tif", PP_FORMAT_TIFF},
        {"tiff", PP_FORMAT_TIFF}, {"pnm", PP_FORMAT_PNM}, {"ppm", PP_FORMAT_PNM},
        {"pgm", PP_FORMAT_PNM}, {"psd", PP_FORMAT_PSD}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) return names[i].f;
    return PP_FORMAT_UNKNOWN;
}

int cli_read_all(FILE *f, void **data, size_t *size)
{
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) return -1;
    for (;;) {
        if (n == cap) {
            unsigned char *nb = cap > ((size_t)1 << 40) ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        errno = e ? e : EIO;
        return -1;
    }
    *data = buf;
    *size = n;
    return 0;
}

int cli_parse_size(const char *opt, const char *s, uint64_t *out)
{
    static const char units[] = "KMGT";
    char *end = (char *)s;
    errno = 0;
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    int ok = s[0] >= '0' && s[0] <= '9' && !errno && v > 0;
    if (ok && *end) { /* a suffix: K/M/G/T, then optionally "iB" or "B" */
        int shift = -1;
        for (int i = 0; units[i]; i++)
            if (end[0] == units[i] || end[0] == units[i] + ('a' - 'A')) shift = 10 * (i + 1);
        const char *rest = end + 1;
        if (strcmp(rest, "") && strcmp(rest, "B") && strcmp(rest, "b") && strcmp(rest, "iB") &&
            strcmp(rest, "ib"))
            shift = -1;
        if (shift < 0 || v > (~0ULL >> shift)) ok = 0;
        else v <<= shift;
    }
    if (!ok) {
        cli_error("%s: '%s' is not a size in bytes (a positive integer, optionally with K, M, G "
                  "or T: 512M, 4G)", opt, s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cli_check_stream(FILE *f, const char *name)
{
    errno = 0;
    int flush_failed = fflush(f) != 0;
    int e = errno;
    if (!flush_failed && !ferror(f)) return 0;
    if (flush_failed && e)
        cli_error("%s: write error: %s", name, strerror(e));
    else
        cli_error("%s: write error", name);
    return -1;
}

int cli_close_stream(FILE *f, const char *name)
{
    int bad = cli_check_stream(f, name);
    errno = 0;
    if (fclose(f) != 0 && !bad) {
        int e = errno;
        cli_error("%s: write error%s%s", name, e ? ": " : "", e ? strerror(e) : "");
        bad = -1;
    }
    return bad;
}

int cli_write_fd(int fd, const void *data, size_t size, const char *name)
{
    const unsigned char *p = data;
    while (size) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            cli_error("%s: write error: %s", name, n < 0 ? strerror(errno) : "nothing written");
            return -1;
        }
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
    char shortopt[3] = {'-', (char)optopt, 0};
    const char *which = optopt > ' ' && optopt < 127 ? shortopt : argv[optind - 1];
    if (c == ':')
        cli_error("%s: option '%s' needs a value (see pixpool %s --help)", cmd, which, cmd);
    else
        cli_error("%s: unknown option '%s' (see pixpool %s --help)", cmd, which, cmd);
    return EXIT_USAGE;
}

int cli_exit_code(pp_status st)
{
    return st == PP_ERR_SPEC || st == PP_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence starting with a byte >= 0x80 at p, or 0. */
static int utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c >= 0xc2 && c <= 0xdf) return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) return 0;
        if (c == 0xe0 && p[1] < 0xa0) return 0; /* overlong */
        if (c == 0xed && p[1] >= 0xa0) return 0; /* UTF-16 surrogates */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) return 0;
        if (c == 0xf0 && p[1] < 0x90) return 0; /* overlong */
        if (c == 0xf4 && p[1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

void cli_json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    putc('"', f);
    while (*p) {
        unsigned c = *p;
        if (c >= 0x80) {
            int n = utf8_len(p);
            if (n) {
                fwrite(p, 1, (size_t)n, f);
                p += n;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
            continue;
        }
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20)
                fprintf(f, "\\u%04x", c);
            else
                putc((int)c, f);
        }
        p++;
    }
    putc('"', f);
}
