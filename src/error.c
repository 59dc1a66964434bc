/*
 * error.c - the ground floor: status texts and the context's last-error message.
 *
 * Every other module reports failures through pp_fail, so this file calls nothing of the
 * library: it only writes the message into the context's buffer (struct pp_ctx, internal.h).
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

const char *pp_strerror(pp_status status)
{
    switch (status) {
    case PP_OK: return "success";
    case PP_ERR_NOMEM: return "out of memory";
    case PP_ERR_IO: return "input/output error";
    case PP_ERR_FORMAT: return "unsupported image format";
    case PP_ERR_DECODE: return "corrupt or truncated image data";
    case PP_ERR_ENCODE: return "image encoding failed";
    case PP_ERR_LIMIT: return "image exceeds a limit";
    case PP_ERR_INVALID: return "invalid argument";
    case PP_ERR_SPEC: return "invalid filter spec";
    case PP_ERR_WORKER: return "a worker process died";
    case PP_ERR_BACKEND: return "executor unavailable";
    case PP_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

void pp_clear_error(pp_ctx *ctx)
{
    if (ctx) ctx->errmsg[0] = '\0';
}

pp_status pp_fail(pp_ctx *ctx, pp_status status, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *pp_ctx_last_error(const pp_ctx *ctx) { return ctx ? ctx->errmsg : ""; }
