/*
 * jpeg_writer.h - JPEG files written with libjpeg itself, for what pixpool's encoder does not
 * write (CMYK and YCCK, scan scripts, restart markers, arithmetic coding): used by
 * tests/test_jpeg.c and tests/fuzz/make_corpus.c.
 *
 *   jpeg_writer jw;
 *   jw_start(&jw, width, height, components, JCS_CMYK);  // then set fields of jw.ci
 *   size_t n = jw_finish(&jw, pixels, &bytes);            // free(bytes) afterwards
 *
 * libjpeg's default error handler is kept: a failure prints its message and exits, as a test
 * tool may.
 */
#ifndef PP_TEST_JPEG_WRITER_H
#define PP_TEST_JPEG_WRITER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

typedef struct jpeg_writer {
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    unsigned char *mem;
    unsigned long size;
} jpeg_writer;

/* A compressor into memory for width x height pixels of `components` samples in colour space
   `in`, with libjpeg's defaults set (jpeg_set_defaults); adjust jw->ci before jw_finish. */
static inline void jw_start(jpeg_writer *jw, int width, int height, int components,
                            J_COLOR_SPACE in)
{
    jw->ci.err = jpeg_std_error(&jw->err);
    jpeg_create_compress(&jw->ci);
    jw->mem = NULL;
    jw->size = 0;
    jpeg_mem_dest(&jw->ci, &jw->mem, &jw->size);
    jw->ci.image_width = (JDIMENSION)width;
    jw->ci.image_height = (JDIMENSION)height;
    jw->ci.input_components = components;
    jw->ci.in_color_space = in;
    jpeg_set_defaults(&jw->ci);
}

/* Compresses the tightly packed pixels; *out receives the file (free() it), the size is
   returned. */
static inline size_t jw_finish(jpeg_writer *jw, const uint8_t *pixels, uint8_t **out)
{
    const size_t row = (size_t)jw->ci.image_width * (size_t)jw->ci.input_components;
    jpeg_start_compress(&jw->ci, TRUE);
    while (jw->ci.next_scanline < jw->ci.image_height) {
        JSAMPROW r = (JSAMPROW)(pixels + (size_t)jw->ci.next_scanline * row);
        jpeg_write_scanlines(&jw->ci, &r, 1);
    }
    jpeg_finish_compress(&jw->ci);
    jpeg_destroy_compress(&jw->ci);
    *out = jw->mem;
    return jw->size;
}

#endif
