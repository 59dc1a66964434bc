/*
 * stb_impl.c - the one translation unit that compiles stb_image and stb_image_write.
 *
 * Both are compiled with static linkage (STB_IMAGE_STATIC, STB_IMAGE_WRITE_STATIC), so no stb
 * symbol is exported and an application embedding its own copy of stb cannot clash with ours.
 * Only the formats pixpool reads through stb are compiled into stb_image (PNG goes through
 * libpng, JPEG through libjpeg-turbo (jpeg_read.c, jpeg_write.c), PNM and HDR through pixpool's own decoders, pnm.c
 * and hdr.c). stb_image_write has no such switches: its PNG and JPEG writers are static
 * functions nothing calls, which the compiler drops. Reading works from memory only (no
 * stdio). stb's global settings (vertical flip, TGA RLE) are never changed.
 *
 * pp_stb_info() calls stb's per-format header readers directly (they are static functions of
 * this same translation unit) instead of stbi_info_from_memory(), which tries every format in
 * turn and so replaces a precise reason ("bad SOF len") by "unknown image type"; io.c has
 * already identified the format from its magic bytes.
 */
#include "stb_wrap.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* stb declares every function static up front and leaves most of them unused here; gcc reports
   those at the very end of the translation unit, so the warning stays off for the whole file. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

/* stb relies on two's complement wrap-around in places (e.g. the JPEG writer's bit buffer, used
   until pixpool wrote JPEG with libjpeg, does `int <<= 8` past INT_MAX), which C leaves
   undefined and UBSan rejects. -fwrapv makes exactly
   that defined, for stb's code only; the optimisation level stays as given. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("wrapv")
#endif

/* stb_image does not initialise all it allocates: a corrupt JPEG whose scan used a Huffman table
   it never defined was decoded with whatever the heap held (uninitialised reads, indices out of
   nowhere; its JPEG decoder is no longer compiled). Zeroed memory keeps any such read of the
   remaining decoders deterministic. */
#define STBI_MALLOC(size) calloc(1, (size))
#define STBI_REALLOC(ptr, size) realloc((ptr), (size))
#define STBI_FREE(ptr) free(ptr)

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_ONLY_GIF /* PSD has a decoder of its own (psd.c): stb's is not compiled */
/* with neither its PNG nor its PSD reader compiled, stbi__is_16_main ignores its argument */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

int pp_stb_info(pp_format format, const unsigned char *buf, int len, int *w, int *h, int *comp)
{
    stbi__context s;
    int ok = 0;
    stbi__g_failure_reason = NULL;
    stbi__start_mem(&s, buf, len);
    switch (format) {
    case PP_FORMAT_BMP: ok = stbi__bmp_info(&s, w, h, comp); break;
    case PP_FORMAT_TGA: ok = stbi__tga_info(&s, w, h, comp); break;
    case PP_FORMAT_GIF: ok = stbi__gif_info(&s, w, h, comp); break;
    default: stbi__g_failure_reason = "not a format decoded by stb_image"; break;
    }
    return ok ? 1 : 0;
}

/* stb reads through callbacks over the buffer, so that a read past its end - which stb's own
   memory reader answers with zeros, silently - is noticed: a truncated BMP, TGA or GIF then
   "decodes" with zeroed pixels (found by tests/test_hostile.c). Skips are not reads: a file
   that omits the padding of its last BMP row is not truncated. */
typedef struct mem_reader {
    const unsigned char *p;
    int size, pos, past_end;
} mem_reader;

static int mem_read(void *user, char *out, int n)
{
    mem_reader *r = user;
    int left = r->size - r->pos;
    if (left <= 0 || n <= 0) {
        if (n > 0) r->past_end = 1;
        return 0;
    }
    if (n > left) n = left;
    memcpy(out, r->p + r->pos, (size_t)n);
    r->pos += n;
    return n;
}

static void mem_skip(void *user, int n)
{
    mem_reader *r = user;
    long long pos = (long long)r->pos + n;
    r->pos = pos < 0 ? 0 : pos > r->size ? r->size : (int)pos;
}

static int mem_eof(void *user)
{
    const mem_reader *r = user;
    return r->pos >= r->size;
}

unsigned char *pp_stb_load(const unsigned char *buf, int len, int *w, int *h, int req,
                           int *past_end)
{
    static const stbi_io_callbacks io = {mem_read, mem_skip, mem_eof};
    mem_reader r = {buf, len, 0, 0};
    int comp;
    stbi__g_failure_reason = NULL;
    unsigned char *px = stbi_load_from_callbacks(&io, &r, w, h, &comp, req);
    *past_end = r.past_end;
    return px;
}

void pp_stb_free(void *pixels) { stbi_image_free(pixels); }

const char *pp_stb_failure_reason(void)
{
    const char *r = stbi_failure_reason();
    return r ? r : "";
}

int pp_stb_write_bmp(pp_stb_write_fn *fn, void *context, int w, int h, int comp,
                     const void *data)
{
    return stbi_write_bmp_to_func(fn, context, w, h, comp, data);
}

int pp_stb_write_tga(pp_stb_write_fn *fn, void *context, int w, int h, int comp,
                     const void *data)
{
    return stbi_write_tga_to_func(fn, context, w, h, comp, data);
}
