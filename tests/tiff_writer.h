/*
 * tiff_writer.h - TIFF files written with libtiff itself, in every layout pixpool reads (strips
 * and tiles, contiguous and planar, 1-16 bits, palette, MinIsWhite, alpha, either byte order,
 * BigTIFF, each compression): used by tests/test_tiff.c and tests/fuzz/make_corpus.c.
 *
 *   tiff_spec s = {.w = 9, .h = 7, .spp = 3, .bps = 8, .photometric = PHOTOMETRIC_RGB};
 *   size_t n;
 *   uint8_t *file = tiff_make(&s, samples, &n);   // free(file) afterwards
 *
 * `samples` holds the image as the file stores it: rows of ceil(w * spp * bps / 8) bytes
 * (contiguous), or, when planar, spp planes of h rows of ceil(w * bps / 8) bytes one after the
 * other; 16-bit samples in the machine's byte order. A failure of libtiff aborts (a test tool).
 */
#ifndef PP_TEST_TIFF_WRITER_H
#define PP_TEST_TIFF_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tiffio.h>

typedef struct tiff_spec {
    uint32_t w, h;
    uint16_t spp, bps, photometric;
    bool planar;
    uint16_t compression;       /* 0: none */
    uint16_t predictor;         /* 0: none */
    uint16_t orientation;       /* 0: top-left */
    uint16_t extra;             /* the last sample is an extra one of this kind (0: none) */
    uint32_t rows_per_strip;    /* 0: the whole image in one strip */
    uint32_t tile;              /* > 0: square tiles of this size (a multiple of 16) */
    const uint16_t *colormap;   /* palette: 3 x 2^bps entries (red, then green, then blue) */
    bool big_endian, bigtiff;
    int pages;                  /* 0 or 1: one page; n: n pages of the same image */
} tiff_spec;

static inline void tiff_die(const char *what)
{
    fprintf(stderr, "tiff_writer: %s\n", what);
    abort();
}

static inline void tiff_page(TIFF *t, const tiff_spec *s, const uint8_t *px)
{
    size_t prow = ((size_t)s->w * (s->planar ? 1u : s->spp) * s->bps + 7) / 8;
    int ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, s->w) && TIFFSetField(t, TIFFTAG_IMAGELENGTH, s->h) &&
             TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, s->spp) &&
             TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, s->bps) &&
             TIFFSetField(t, TIFFTAG_PHOTOMETRIC, s->photometric) &&
             TIFFSetField(t, TIFFTAG_PLANARCONFIG,
                          s->planar ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG) &&
             TIFFSetField(t, TIFFTAG_COMPRESSION, s->compression ? s->compression : COMPRESSION_NONE) &&
             TIFFSetField(t, TIFFTAG_ORIENTATION, s->orientation ? s->orientation : ORIENTATION_TOPLEFT);
    if (ok && s->predictor) ok = TIFFSetField(t, TIFFTAG_PREDICTOR, s->predictor);
    if (ok && s->extra) {
        uint16_t e = s->extra;
        ok = TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &e);
    }
    if (ok && s->colormap)
        ok = TIFFSetField(t, TIFFTAG_COLORMAP, s->colormap, s->colormap + (1u << s->bps),
                          s->colormap + 2 * (1u << s->bps));
    if (ok && s->tile)
        ok = TIFFSetField(t, TIFFTAG_TILEWIDTH, s->tile) && TIFFSetField(t, TIFFTAG_TILELENGTH, s->tile);
    else if (ok)
        ok = TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, s->rows_per_strip ? s->rows_per_strip : s->h);
    if (!ok) tiff_die("a tag was refused");
    int planes = s->planar ? s->spp : 1;
    if (!s->tile) {
        for (int p = 0; p < planes; p++)
            for (uint32_t y = 0; y < s->h; y++)
                if (TIFFWriteScanline(t, (void *)(px + ((size_t)p * s->h + y) * prow), y,
                                      (uint16_t)p) < 0)
                    tiff_die("TIFFWriteScanline failed");
    } else {
        if (s->bps % 8) tiff_die("tiles of sub-byte samples are not written here");
        size_t bpp = (s->planar ? 1u : s->spp) * (s->bps / 8u);
        size_t trow = (size_t)s->tile * bpp;
        uint8_t *tb = calloc((size_t)s->tile, trow);
        if (!tb) tiff_die("out of memory");
        for (int p = 0; p < planes; p++)
            for (uint32_t ty = 0; ty < s->h; ty += s->tile)
                for (uint32_t tx = 0; tx < s->w; tx += s->tile) {
                    memset(tb, 0, (size_t)s->tile * trow);
                    for (uint32_t r = 0; r < s->tile && ty + r < s->h; r++) {
                        uint32_t nw = s->w - tx < s->tile ? s->w - tx : s->tile;
                        memcpy(tb + r * trow, px + ((size_t)p * s->h + ty + r) * prow + tx * bpp,
                               nw * bpp);
                    }
                    if (TIFFWriteTile(t, tb, tx, ty, 0, (uint16_t)p) < 0) tiff_die("TIFFWriteTile failed");
                }
        free(tb);
    }
    if (!TIFFWriteDirectory(t)) tiff_die("TIFFWriteDirectory failed");
}

/* The file's bytes (malloc()ed; *n their count). */
static inline uint8_t *tiff_make(const tiff_spec *s, const void *samples, size_t *n)
{
    char path[] = "/tmp/pp-tiff-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) tiff_die("mkstemp failed");
    close(fd);
    char mode[8] = "w";
    if (s->big_endian) strcat(mode, "b");
    if (s->bigtiff) strcat(mode, "8");
    TIFF *t = TIFFOpen(path, mode);
    if (!t) tiff_die("TIFFOpen failed");
    for (int i = 0; i < (s->pages > 1 ? s->pages : 1); i++) tiff_page(t, s, samples);
    TIFFClose(t);
    FILE *f = fopen(path, "rb");
    if (!f) tiff_die("cannot read the file back");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *out = malloc((size_t)len + 1);
    if (!out || fread(out, 1, (size_t)len, f) != (size_t)len) tiff_die("cannot read the file back");
    fclose(f);
    unlink(path);
    *n = (size_t)len;
    return out;
}

#endif
