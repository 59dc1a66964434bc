/*
 * stb_wrap.h - the few stb_image / stb_image_write entry points stb.c and io.c use (io.c:
 * pp_stb_info, to recognise a TGA).
 *
 * stb is compiled privately in stb_impl.c (every stb function is static there); these wrappers
 * are the only way in, so no stb symbol leaves the library and no other file sees stb's
 * globals. Buffers are passed with int lengths, as stb wants: callers check the size first.
 */
#ifndef PP_STB_WRAP_H
#define PP_STB_WRAP_H

#include "pixpool.h"

/* Reads the header of an image of the given format (BMP, TGA or GIF) without
   decoding pixels. Returns 1 and the size and the channels stb decodes it to, or 0. */
int pp_stb_info(pp_format format, const unsigned char *buf, int len, int *w, int *h, int *comp);

/* Decodes to `req` channels of 8 bits; NULL on failure (see pp_stb_failure_reason). The
   result is released with pp_stb_free(). *past_end is set to 1 when the decoder read past the
   end of the buffer (stb then decodes zeros: a truncated file), else 0. */
unsigned char *pp_stb_load(const unsigned char *buf, int len, int *w, int *h, int req,
                           int *past_end);
void pp_stb_free(void *pixels);

/* Why the last stb call of this thread failed; never NULL ("" when stb gave no reason). */
const char *pp_stb_failure_reason(void);

/* Encoders writing through a callback; data is tightly packed (stride == w * comp). Return 1
   on success, 0 on failure. */
typedef void pp_stb_write_fn(void *context, void *data, int size);
int pp_stb_write_bmp(pp_stb_write_fn *fn, void *context, int w, int h, int comp,
                     const void *data);
int pp_stb_write_tga(pp_stb_write_fn *fn, void *context, int w, int h, int comp,
                     const void *data);

#endif /* PP_STB_WRAP_H */
