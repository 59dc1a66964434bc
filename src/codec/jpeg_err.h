/*
 * jpeg_err.h - libjpeg's error manager as pixpool uses it, for jpeg_read.c and jpeg_write.c.
 *
 * libjpeg reports a failure through error_exit, which must not return. Ours (jpeg_on_error)
 * formats libjpeg's message into a jpeg_trap and longjmps back to the guard function (of the
 * file that called setjmp) that started the work, so a jump never leaves the file that set it;
 * everything the work touches lives in a job struct reached through a pointer, so nothing a
 * longjmp could leave indeterminate is a local of the function calling setjmp. libjpeg never
 * prints: output_message and emit_message are ours and silent. In a decoder every corrupt-data
 * warning is a failure (see jpeg_err.c).
 */
#ifndef PP_JPEG_ERR_H
#define PP_JPEG_ERR_H

#include "codec.h"

#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE and size_t declared before it */

#include <jpeglib.h>
#include <jerror.h>

#ifndef JCS_EXTENSIONS
#error "pixpool needs libjpeg-turbo (its JCS_EXT_RGBX input colour space)"
#endif

/* Where a failure of libjpeg, or of a callback, is reported: cinfo->client_data points to it
   (the first member of each job struct). */
typedef struct jpeg_trap {
    jmp_buf jmp;
    pp_status status;
    char msg[JMSG_LENGTH_MAX + 96];
} jpeg_trap;

/* Records status and msg in the trap and jumps to its setjmp. */
_Noreturn void pp_jpeg_raise(j_common_ptr cinfo, pp_status status, const char *msg);

/* jpeg_std_error with pixpool's error_exit, output_message and emit_message. */
void pp_jpeg_init_errors(struct jpeg_error_mgr *err);

#endif /* PP_JPEG_ERR_H */
