/*
 * orient.c - auto-orient: the pixels turned as the image's EXIF orientation says (a pipeline of
 * flop / flip / rotate / transpose), with orientation 1 written into the copy's EXIF. Above the
 * pipeline (which it runs) and meta.c (whose EXIF walker it uses); called by io.c when the
 * context asks for it at load, and by pp_auto_orient.
 */
#include "internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The filters that turn an image stored with EXIF orientation o upright. */
static int orient_specs(int o, const char *specs[2])
{
    switch (o) {
    case 2: specs[0] = "flop"; return 1;
    case 3: specs[0] = "rotate:angle=180"; return 1;
    case 4: specs[0] = "flip"; return 1;
    case 5: specs[0] = "transpose"; return 1;
    case 6: specs[0] = "rotate:angle=90"; return 1;
    case 7: specs[0] = "transpose"; specs[1] = "rotate:angle=180"; return 2;
    case 8: specs[0] = "rotate:angle=270"; return 1;
    default: return 0;
    }
}

/* The oriented copy of `in` (orientation 1 written into its EXIF). */
static pp_status orient_copy(pp_ctx *ctx, const pp_image *in, pp_image **out)
{
    const pp_meta_item *ex = pp_meta_find(&in->meta, "exif");
    int o = ex ? pp_exif_orientation(ex->data, ex->size) : 0;
    const char *specs[2] = {NULL, NULL};
    int n = orient_specs(o, specs);
    pp_pipeline *pl;
    pp_status st = pp_pipeline_new(ctx, &pl);
    if (st) return st;
    for (int i = 0; i < n && !st; i++) st = pp_pipeline_add_spec(ctx, pl, specs[i]);
    if (!st) st = pp_pipeline_run(ctx, pl, in, out);
    pp_pipeline_free(pl);
    if (st) return st;
    /* the copy is ours to change */
    pp_meta_item *it = (pp_meta_item *)(uintptr_t)pp_meta_find(&(*out)->meta, "exif");
    if (it && o > 1) pp_exif_set_orientation(it->data, it->size, 1);
    return PP_OK;
}

pp_status pp_meta_orient(pp_ctx *ctx, const char *name, pp_image **img)
{
    const pp_meta_item *ex = pp_meta_find(&(*img)->meta, "exif");
    int o = ex ? pp_exif_orientation(ex->data, ex->size) : 0;
    if (o <= 1) return PP_OK;
    pp_image *in = *img;
    pp_status st = pp_check_memory(ctx, name, in->block.bytes, in->block.bytes, "auto-orient buffers");
    if (st) return st;
    pp_image *out = NULL;
    if ((st = orient_copy(ctx, in, &out))) {
        char why[PP_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", ctx->errmsg);
        return pp_fail(ctx, st, "%s: auto-orient: %s", name, why);
    }
    pp_image_free(in);
    *img = out;
    return PP_OK;
}

pp_status pp_auto_orient(pp_ctx *ctx, const pp_image *in, pp_image **out)
{
    if (out) *out = NULL;
    if (!ctx) return PP_ERR_INVALID;
    if (!in || !out) return pp_fail(ctx, PP_ERR_INVALID, "pp_auto_orient: NULL argument");
    return orient_copy(ctx, in, out);
}

