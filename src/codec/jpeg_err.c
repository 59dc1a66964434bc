/*
 * jpeg_err.c - libjpeg's failures and warnings turned into pixpool statuses (jpeg_err.h).
 */
#include "jpeg_err.h"

_Noreturn void pp_jpeg_raise(j_common_ptr cinfo, pp_status status, const char *msg)
{
    jpeg_trap *t = cinfo->client_data;
    t->status = status;
    snprintf(t->msg, sizeof t->msg, "%s", msg);
    longjmp(t->jmp, 1);
}

/* error_exit: libjpeg's message, with a status from its code. */
static void on_error(j_common_ptr cinfo)
{
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    pp_status st = cinfo->is_decompressor ? PP_ERR_DECODE : PP_ERR_ENCODE;
    switch (cinfo->err->msg_code) {
    case JERR_OUT_OF_MEMORY: st = PP_ERR_NOMEM; break;
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW: {
        char msg[JMSG_LENGTH_MAX + 64];
        snprintf(msg, sizeof msg, "image too large for libjpeg (%s)", text);
        pp_jpeg_raise(cinfo, PP_ERR_LIMIT, msg);
    }
    case JERR_NO_BACKING_STORE:
        /* a whole-image buffer over cinfo->mem->max_memory_to_use (set from the memory limit;
           the estimate checked before decoding should have refused the file first) */
        pp_jpeg_raise(cinfo, PP_ERR_LIMIT, "the decoder's buffers exceed the memory limit");
    default: break;
    }
    pp_jpeg_raise(cinfo, st, text);
}

/* libjpeg's messages are never printed. */
static void on_output(j_common_ptr cinfo) { (void)cinfo; }

/* emit_message: level >= 0 are trace messages (ignored). Level -1 is a warning, which in a
   decoder means corrupt data: a premature end of the file (libjpeg would go on with a fake
   EOI marker and gray blocks), extraneous bytes before a marker, a bad Huffman or arithmetic
   code, a missing restart marker, an inconsistent progression... Each of these fails the
   decode, as a truncated or damaged file did with stb_image: pixpool refuses damaged input
   rather than decoding a guess. Two warnings are not about the image data and are let pass, as
   libjpeg handles them well: an unknown JFIF version, and an unknown Adobe transform code
   (libjpeg then takes the colour space from the component count). */
static void on_message(j_common_ptr cinfo, int level)
{
    if (level >= 0 || !cinfo->is_decompressor) return;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM) return;
    on_error(cinfo);
}

void pp_jpeg_init_errors(struct jpeg_error_mgr *err)
{
    jpeg_std_error(err);
    err->error_exit = on_error;
    err->output_message = on_output;
    err->emit_message = on_message;
}
