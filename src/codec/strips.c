/*
 * strips.c - an encoder's strips as one stage on the context's executor (codec.h).
 *
 * The plumbing that png_write.c and jpeg_write.c share: memory the workers can see for the
 * strips' output slots and result records (and a packed copy of the pixels when the image lies
 * where the workers cannot read it: a malloc()ed image with the fork backend), the memory
 * check of all of it, and the stage itself, one band a strip. With one strip, or one worker,
 * there is nothing to share out and the serial executor runs it on the calling thread.
 */
#include "codec.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static size_t align_up(size_t n) { return (n + PP_ALIGN - 1) & ~(size_t)(PP_ALIGN - 1); }

pp_status pp_strips_run(pp_ctx *ctx, const pp_image *img, const char *name, pp_strips *r)
{
    int workers = pp_ctx_workers(ctx);
    bool share = r->nstrips >= 2 && workers >= 2;
    const pp_executor *ex = share ? pp_executor_for(ctx->backend) : pp_executor_local();
    uint64_t nworkers = share ? (uint64_t)workers : 1u;
    size_t rowbytes = (size_t)img->width * (size_t)img->channels * (size_t)(img->depth == 16 ? 2 : 1);
    r->slots_bytes_ = align_up((size_t)r->nstrips * r->slot_bytes);
    r->results_bytes_ = align_up((size_t)r->nstrips * r->result_bytes);
    r->copy_bytes_ = ex->can_see(ctx, img->data) ? 0 : align_up(rowbytes * (size_t)img->height);
    uint64_t need = (uint64_t)r->slots_bytes_ + r->results_bytes_ + r->copy_bytes_ +
                    nworkers * ((uint64_t)r->scratch_bytes + r->worker_extra_bytes);
    pp_status st = pp_check_memory(ctx, name, 0, need, r->what);
    if (st) return st;

    pp_stage *stage = calloc(1, sizeof *stage);
    bool ok = !ex->alloc(ctx, r->slots_bytes_, &r->slots_b_) &&
              !ex->alloc(ctx, r->results_bytes_, &r->results_b_) &&
              (!r->copy_bytes_ || !ex->alloc(ctx, r->copy_bytes_, &r->pixels_b_));
    r->slots = r->slots_b_.data;
    r->results = r->results_b_.data;
    uint8_t *pixels = r->pixels_b_.data;
    if (!stage || !ok) {
        free(stage);
        pp_strips_free(ctx, r);
        return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory for the %s", name, r->what);
    }
    memset(r->results, 0, r->results_bytes_);
    stage->kernel = r->kernel;
    if (pixels) {
        for (int y = 0; y < img->height; y++)
            memcpy(pixels + (size_t)y * rowbytes, img->data + (size_t)y * img->stride, rowbytes);
        stage->src = (pp_view){pixels, rowbytes, img->width, img->height, img->channels, img->depth};
    } else {
        stage->src = (pp_view){img->data, img->stride, img->width, img->height, img->channels,
                               img->depth};
    }
    stage->dst = (pp_view){r->slots, r->slot_bytes,
                           (int)(r->slot_bytes > INT_MAX ? INT_MAX : r->slot_bytes), r->nstrips,
                           1, 8};
    stage->partials = r->results;
    stage->rows = r->nstrips;
    stage->band_rows = 1; /* a band is a strip */
    stage->scratch_bytes = r->scratch_bytes;
    memcpy(stage->params, r->params, r->params_bytes);
    st = ex->run(ctx, stage);
    free(stage);
    if (st) pp_strips_free(ctx, r);
    return st;
}

void pp_strips_free(pp_ctx *ctx, pp_strips *r)
{
    (void)ctx;
    pp_block_release(&r->pixels_b_);
    pp_block_release(&r->results_b_);
    pp_block_release(&r->slots_b_);
    r->slots = r->results = NULL;
}
