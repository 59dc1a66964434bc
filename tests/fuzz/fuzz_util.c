/*
 * fuzz_util.c - helpers of the fuzz targets and their drivers: the failure report and the
 * reader of regression files (raw or commented hex).
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pp_fuzz_fail(const char *target, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz: %s: ", target);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decodes commented hex text in place; returns the byte count, or -1 when malformed. */
static long decode_hex(uint8_t *buf, size_t len)
{
    size_t out = 0;
    int high = -1;
    for (size_t i = 0; i < len; i++) {
        int ch = buf[i];
        if (ch == '#') {
            while (i < len && buf[i] != '\n') i++;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') continue;
        int v = hex_value(ch);
        if (v < 0) return -1;
        if (high < 0) {
            high = v;
        } else {
            buf[out++] = (uint8_t)(high << 4 | v);
            high = -1;
        }
    }
    return high < 0 ? (long)out : -1;
}

uint8_t *pp_fuzz_read_input(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        return NULL;
    }
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".hex") == 0) {
        long got = decode_hex(buf, len);
        if (got < 0) {
            free(buf);
            return NULL;
        }
        len = (size_t)got;
    }
    *size = len;
    return buf;
}
