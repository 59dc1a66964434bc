/*
 * pipeline.c - the pipeline object (a list of checked filter instances) and its run: plans each
 * filter, provides its buffers, hands its stages to the context's executor, and applies the
 * alpha convention around filters that need it.
 *
 * This is the one module that knows both filters (through their plans) and executors (through
 * pp_executor). Buffers come from the executor (heap for threads, the shared arena for
 * processes) and are recycled within a run: a pipeline of N filters ping-pongs between a few
 * buffers instead of faulting in fresh pages for every filter.
 *
 * Memory limit: the run counts the bytes of every buffer it holds (in use or pooled for reuse)
 * and checks, before each new allocation, that they stay within ctx->max_memory together with
 * the largest per-worker kernel scratch of the filter; over it, pooled buffers are given back
 * first, then the run fails with PP_ERR_LIMIT before allocating (pp_check_memory's message).
 *
 * Alpha: filters marked PP_ALPHA_PREMUL (smoothing, sharpening, rank and resampling filters)
 * run on premultiplied colour, p = round(c * a / 255), with alpha filtered like a colour; the
 * result is unpremultiplied, c = a ? min(255, round(p * 255 / a)) : 0. Such a filter with
 * 16-bit kernels gets 8-bit input premultiplied into 16 bits (exact alpha: the premultiplied
 * colour is not rounded to 8 bits between the steps). The conversions are convert.c's. Other
 * filters handle alpha themselves (colour operations leave it alone).
 */
#include "convert.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffers ------------------------------------------------------------------------------ */

#define POOL_MAX 8

typedef struct run_state {
    pp_ctx *ctx;
    const pp_executor *ex;
    pp_block pool[POOL_MAX]; /* free buffers kept for reuse within this run */
    int npool;
    uint64_t held;      /* bytes of every buffer this run holds (in use and pooled): checked
                           against ctx->max_memory before each new allocation */
} run_state;

static void pool_drain(run_state *rs)
{
    for (int i = 0; i < rs->npool; i++) {
        rs->held -= rs->pool[i].bytes;
        pp_block_release(&rs->pool[i]);
    }
    rs->npool = 0;
}

/* A buffer of at least `bytes` bytes: a pooled one, else a new one if the memory limit allows
   it (pooled buffers are given back first when it would not). `what` names the filter in
   messages. */
static pp_status buf_get(run_state *rs, const char *what, size_t bytes, pp_block *out)
{
    *out = (pp_block){0};
    int best = -1;
    for (int i = 0; i < rs->npool; i++)
        if (rs->pool[i].bytes >= bytes && (best < 0 || rs->pool[i].bytes < rs->pool[best].bytes))
            best = i;
    if (best >= 0) {
        *out = rs->pool[best];
        rs->pool[best] = rs->pool[--rs->npool];
        return PP_OK;
    }
    size_t n = bytes ? bytes : 1;
    if (pp_check_memory(rs->ctx, what, rs->held, n, "pixel buffers")) {
        pool_drain(rs); /* unused buffers count too: give them back and try again */
        pp_status st = pp_check_memory(rs->ctx, what, rs->held, n, "pixel buffers");
        if (st) return st;
    }
    rs->ctx->errmsg[0] = '\0';
    if (rs->ex->alloc(rs->ctx, n, out)) {
        if (rs->ctx->errmsg[0]) { /* the executor said why (e.g. the shared arena is full) */
            char why[PP_ERRMSG_MAX];
            snprintf(why, sizeof why, "%s", rs->ctx->errmsg);
            return pp_fail(rs->ctx, PP_ERR_NOMEM, "%s: %s", what, why);
        }
        return pp_fail(rs->ctx, PP_ERR_NOMEM, "%s: out of memory (%zu bytes)", what, n);
    }
    rs->held += n;
    return PP_OK;
}

static void buf_put(run_state *rs, pp_block *b)
{
    if (!b->data) return;
    if (rs->npool < POOL_MAX) {
        rs->pool[rs->npool++] = *b;
        *b = (pp_block){0};
        return;
    }
    rs->held -= b->bytes;
    pp_block_release(b);
}

/* A buffer holding an image during the run; an empty block for the caller's input. */
typedef struct slot {
    pp_view v;
    pp_block blk;
} slot;

static pp_status slot_alloc(run_state *rs, const char *what, pp_geom g, slot *s)
{
    size_t bytes;
    const int depth = pp_geom_depth(&g);
    pp_status st = pp_check_size_depth(rs->ctx, what, g.width, g.height, g.channels, depth,
                                       &bytes);
    if (st) return st;
    if ((st = buf_get(rs, what, bytes, &s->blk))) return st;
    s->v.data = s->blk.data;
    s->v.width = g.width;
    s->v.height = g.height;
    s->v.channels = g.channels;
    s->v.depth = depth;
    s->v.stride = (size_t)g.width * (size_t)g.channels * (size_t)(depth / 8);
    return PP_OK;
}

static pp_geom slot_geom(const slot *s, int depth)
{
    return (pp_geom){s->v.width, s->v.height, s->v.channels, depth};
}

/* Whether filter d plans input of this depth. */
static bool takes_depth(const pp_filter_def *d, int depth)
{
    unsigned m = d->depths ? d->depths : PP_DEPTH_8;
    return (m & (depth == 16 ? PP_DEPTH_16 : PP_DEPTH_8)) != 0;
}

static void slot_free(run_state *rs, slot *s)
{
    buf_put(rs, &s->blk);
    memset(s, 0, sizeof *s);
}

static pp_status run_stage(run_state *rs, pp_stage *st)
{
    if (st->rows <= 0) return PP_OK;
    if (st->serial) return pp_executor_local()->run(rs->ctx, st);
    return rs->ex->run(rs->ctx, st);
}

/* Runs a single kernel over a whole image (used for the alpha conversions). */
static pp_status run_simple(run_state *rs, pp_kernel_fn k, const pp_view *src, const pp_view *dst)
{
    pp_stage *st = calloc(1, sizeof *st);
    if (!st) return pp_fail(rs->ctx, PP_ERR_NOMEM, "out of memory");
    st->kernel = k;
    st->src = *src;
    st->dst = *dst;
    st->rows = dst->height;
    pp_status s = run_stage(rs, st);
    free(st);
    return s;
}

/* Runs one filter from `in` into a new slot `out`. */
static pp_status run_filter(run_state *rs, const pp_filter_inst *fi, const slot *in, slot *out)
{
    pp_ctx *ctx = rs->ctx;
    pp_plan *plan = calloc(1, sizeof *plan);
    pp_stage *st = calloc(1, sizeof *st);
    slot temps[PP_MAX_TEMPS];
    memset(temps, 0, sizeof temps);
    pp_block partials = {0};
    pp_status status = PP_OK;
    if (!plan || !st) {
        status = pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
        goto done;
    }
    const int depth = in->v.depth == 16 ? 16 : 8;
    if (!takes_depth(fi->def, depth)) {
        status = pp_fail(ctx, PP_ERR_SPEC, "%s: %d-bit images are not supported by this filter "
                         "(convert the depth first: --depth / pp_image_convert_depth)", fi->spec,
                         depth);
        goto done;
    }
    pp_geom g = slot_geom(in, depth);
    char err[PP_ERRMSG_MAX - 160];
    err[0] = '\0';
    status = fi->def->plan(&fi->params, &g, plan, err, sizeof err);
    if (status) {
        pp_fail(ctx, status, "%s: %s", fi->spec, err[0] ? err : pp_strerror(status));
        goto done;
    }
    if ((status = slot_alloc(rs, fi->spec, plan->out, out))) goto done;
    for (int i = 0; i < plan->ntemps; i++)
        if ((status = slot_alloc(rs, fi->spec, plan->temps[i], &temps[i]))) goto done;
    if (plan->partial_bytes) {
        if ((status = buf_get(rs, fi->spec, plan->partial_bytes, &partials))) goto done;
        memset(partials.data, 0, plan->partial_bytes);
    }
    /* The kernels' scratch (per worker, held while a stage runs) counts against the memory
       limit too: a resize that shrinks a tall image to a few rows keeps a ring of up to a whole
       column of input rows per worker. */
    uint64_t scratch = 0;
    for (int i = 0; i < plan->nstages; i++) {
        const pp_stage_tmpl *t = &plan->stages[i];
        uint64_t n = t->serial ? 1u : (uint64_t)rs->ex->workers(ctx);
        uint64_t b = t->scratch_bytes > UINT64_MAX / n ? UINT64_MAX : t->scratch_bytes * n;
        if (b > scratch) scratch = b;
    }
    if (pp_check_memory(ctx, fi->spec, rs->held, scratch, "pixel buffers and scratch")) {
        pool_drain(rs); /* pooled buffers are not needed while the stages run */
        if ((status = pp_check_memory(ctx, fi->spec, rs->held, scratch,
                                      "pixel buffers and scratch")))
            goto done;
    }
    for (int i = 0; i < plan->nstages; i++) {
        const pp_stage_tmpl *t = &plan->stages[i];
        const slot *bufs_in[2] = {in, out};
        pp_view views[3];
        int ids[3] = {t->src, t->aux, t->dst};
        for (int j = 0; j < 3; j++) {
            memset(&views[j], 0, sizeof views[j]);
            if (ids[j] == PP_BUF_IN || ids[j] == PP_BUF_OUT) views[j] = bufs_in[ids[j]]->v;
            else if (ids[j] >= PP_BUF_TMP) views[j] = temps[ids[j] - PP_BUF_TMP].v;
        }
        memset(st, 0, sizeof *st);
        st->kernel = t->kernel;
        st->src = views[0];
        st->aux = views[1];
        st->dst = views[2];
        st->partials = partials.data;
        st->rows = t->rows > 0 ? t->rows : st->dst.height;
        st->band_rows = t->band_rows;
        st->min_band_rows = t->min_band_rows;
        st->serial = t->serial;
        st->scratch_bytes = t->scratch_bytes;
        memcpy(st->params, t->params, sizeof st->params);
        if ((status = run_stage(rs, st))) goto done;
    }
done:
    for (int i = 0; i < PP_MAX_TEMPS; i++) slot_free(rs, &temps[i]);
    buf_put(rs, &partials);
    if (status) slot_free(rs, out);
    free(plan);
    free(st);
    return status;
}

/* Runs a filter with the alpha convention: a PP_ALPHA_PREMUL filter on an image with alpha runs
   on premultiplied colour, at 16 bits when it has 16-bit kernels (also for 8-bit input: exact
   alpha, the premultiplied colour is not rounded to 8 bits between the steps). */
static pp_status run_filter_alpha(run_state *rs, const pp_filter_inst *fi, const slot *in, slot *out)
{
    if (fi->def->alpha != PP_ALPHA_PREMUL || !pp_has_alpha(in->v.channels))
        return run_filter(rs, fi, in, out);
    const int depth = in->v.depth == 16 ? 16 : 8;
    const bool wide = takes_depth(fi->def, 16); /* premultiplied colour kept at 16 bits */
    if (!takes_depth(fi->def, depth)) return run_filter(rs, fi, in, out); /* its message */
    slot pre, mid;
    memset(&pre, 0, sizeof pre);
    memset(&mid, 0, sizeof mid);
    pp_status st = slot_alloc(rs, fi->spec, slot_geom(in, wide ? 16 : 8), &pre);
    if (st) return st;
    pp_kernel_fn premul = pp_convert_kernel(!wide ? PP_CONV_PREMUL8
                                            : depth == 8 ? PP_CONV_PREMUL8TO16 : PP_CONV_PREMUL16);
    if ((st = run_simple(rs, premul, &in->v, &pre.v))) goto done;
    if (!wide || depth == 16) { /* unpremultiplied in place, at the depth of the input */
        if ((st = run_filter(rs, fi, &pre, out))) goto done;
        if (pp_has_alpha(out->v.channels))
            st = run_simple(rs, pp_convert_kernel(wide ? PP_CONV_UNPREMUL16 : PP_CONV_UNPREMUL8),
                            &out->v, &out->v);
        goto done;
    }
    /* 8-bit input through a 16-bit filter: back to 8 bits with the unpremultiply */
    if ((st = run_filter(rs, fi, &pre, &mid))) goto done;
    slot_free(rs, &pre);
    if ((st = slot_alloc(rs, fi->spec, slot_geom(&mid, 8), out))) goto done;
    st = run_simple(rs, pp_convert_kernel(pp_has_alpha(mid.v.channels) ? PP_CONV_UNPREMUL16TO8
                                                                        : PP_CONV_NARROW),
                    &mid.v, &out->v);
done:
    if (st) slot_free(rs, out);
    slot_free(rs, &mid);
    slot_free(rs, &pre);
    return st;
}

static pp_status copy_into(run_state *rs, const pp_image *im, slot *s)
{
    pp_geom g = {im->width, im->height, im->channels, im->depth};
    pp_status st = slot_alloc(rs, "image", g, s);
    if (st) return st;
    for (int y = 0; y < im->height; y++)
        memcpy(pp_row(&s->v, y), im->data + (size_t)y * im->stride, s->v.stride);
    return PP_OK;
}

/* The image of a slot (the image takes the block's reference on its heap or arena). */
static pp_image *slot_image(pp_image *res, slot *s)
{
    res->width = s->v.width;
    res->height = s->v.height;
    res->channels = s->v.channels;
    res->depth = s->v.depth == 16 ? 16 : 8;
    res->stride = s->v.stride;
    res->data = s->v.data;
    res->block = s->blk;
    return res;
}

pp_status pp_image_convert_depth(pp_ctx *ctx, const pp_image *in, int depth, pp_image **out)
{
    if (out) *out = NULL;
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!in || !out)
        return pp_fail(ctx, PP_ERR_INVALID, "pp_image_convert_depth: %s is NULL",
                       !in ? "the input image" : "out");
    if (depth != 8 && depth != 16)
        return pp_fail(ctx, PP_ERR_INVALID, "pp_image_convert_depth: depth %d (8 or 16)", depth);
    run_state rs = {.ctx = ctx, .ex = pp_executor_for(ctx->backend)};
    pp_image *res = calloc(1, sizeof *res);
    if (!res) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    slot src, dst;
    memset(&src, 0, sizeof src);
    memset(&dst, 0, sizeof dst);
    pp_status st = PP_OK;
    if (rs.ex->can_see(ctx, in->data))
        src.v = (pp_view){in->data, in->stride, in->width, in->height, in->channels, in->depth};
    else if ((st = copy_into(&rs, in, &src)))
        goto fail;
    if (in->depth == depth) {
        if (src.blk.data) { /* already a copy */
            dst = src;
            memset(&src, 0, sizeof src);
        } else if ((st = copy_into(&rs, in, &dst))) {
            goto fail;
        }
    } else {
        if ((st = slot_alloc(&rs, "image", slot_geom(&src, depth), &dst))) goto fail;
        if ((st = run_simple(&rs, pp_convert_kernel(depth == 16 ? PP_CONV_WIDEN : PP_CONV_NARROW),
                              &src.v, &dst.v)))
            goto fail;
    }
    slot_free(&rs, &src);
    pool_drain(&rs);
    slot_image(res, &dst);
    if ((st = pp_meta_pass(ctx, in, res, in->depth == depth))) {
        pp_image_free(res);
        return st;
    }
    *out = res;
    return PP_OK;
fail:
    slot_free(&rs, &dst);
    slot_free(&rs, &src);
    pool_drain(&rs);
    free(res);
    return st;
}

pp_status pp_pipeline_run(pp_ctx *ctx, const pp_pipeline *pl, const pp_image *in, pp_image **out)
{
    if (out) *out = NULL;
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!pl || !in || !out)
        return pp_fail(ctx, PP_ERR_INVALID, "pp_pipeline_run: %s is NULL",
                       !pl ? "the pipeline" : !in ? "the input image" : "out");
    run_state rs = {.ctx = ctx, .ex = pp_executor_for(ctx->backend)};
    pp_image *res = calloc(1, sizeof *res);
    if (!res) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");

    slot cur;
    memset(&cur, 0, sizeof cur);
    pp_status st = PP_OK;
    if (rs.ex->can_see(ctx, in->data) && pl->count > 0) {
        cur.v = (pp_view){in->data, in->stride, in->width, in->height, in->channels, in->depth};
    } else if ((st = copy_into(&rs, in, &cur))) {
        goto fail; /* the fork backend copies a heap image into shared memory once */
    }
    for (int i = 0; i < pl->count; i++) {
        slot next;
        memset(&next, 0, sizeof next);
        st = run_filter_alpha(&rs, &pl->items[i], &cur, &next);
        slot_free(&rs, &cur);
        if (st) goto fail;
        cur = next;
    }
    /* Shrink: give back pooled buffers before handing out the result. */
    pool_drain(&rs);
    slot_image(res, &cur);
    /* the input's metadata, fitted to the output; the palette kept when no filter, or only
       filters that copy pixels, ran */
    bool same_colours = true;
    for (int i = 0; i < pl->count; i++)
        same_colours = same_colours && pp_filter_copies_pixels(pl->items[i].def);
    if ((st = pp_meta_pass(ctx, in, res, same_colours))) {
        pp_image_free(res);
        return st;
    }
    *out = res;
    return PP_OK;
fail:
    slot_free(&rs, &cur);
    pool_drain(&rs);
    free(res);
    return st;
}

pp_status pp_apply(pp_ctx *ctx, const char *spec, const pp_image *in, pp_image **out)
{
    if (out) *out = NULL;
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!spec || !in || !out)
        return pp_fail(ctx, PP_ERR_INVALID, "pp_apply: %s is NULL",
                       !spec ? "the spec" : !in ? "the input image" : "out");
    pp_pipeline *pl;
    pp_status st = pp_pipeline_new(ctx, &pl);
    if (st) return st;
    if (!(st = pp_pipeline_add_spec(ctx, pl, spec))) st = pp_pipeline_run(ctx, pl, in, out);
    pp_pipeline_free(pl);
    return st;
}

/* ---- the pipeline object ------------------------------------------------------------------ */

pp_status pp_pipeline_new(pp_ctx *ctx, pp_pipeline **out)
{
    if (!out) return ctx ? pp_fail(ctx, PP_ERR_INVALID, "pp_pipeline_new: out is NULL")
                         : PP_ERR_INVALID;
    *out = calloc(1, sizeof **out);
    if (!*out) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    return PP_OK;
}

void pp_pipeline_free(pp_pipeline *pl)
{
    if (!pl) return;
    free(pl->items);
    free(pl);
}

int pp_pipeline_length(const pp_pipeline *pl) { return pl ? pl->count : 0; }

static pp_status push(pp_ctx *ctx, pp_pipeline *pl, const pp_filter_inst *inst)
{
    if (pl->count == pl->cap) {
        int cap = pl->cap ? pl->cap * 2 : 8;
        pp_filter_inst *n = realloc(pl->items, (size_t)cap * sizeof *n);
        if (!n) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
        pl->items = n;
        pl->cap = cap;
    }
    pl->items[pl->count++] = *inst;
    return PP_OK;
}

pp_status pp_pipeline_add_spec(pp_ctx *ctx, pp_pipeline *pl, const char *spec)
{
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!pl || !spec)
        return pp_fail(ctx, PP_ERR_INVALID, "pp_pipeline_add_spec: %s is NULL",
                       !pl ? "the pipeline" : "the spec");
    pp_filter_inst *inst = malloc(sizeof *inst);
    if (!inst) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    pp_status st = pp_parse_spec(ctx, spec, inst);
    if (!st) st = push(ctx, pl, inst);
    free(inst);
    return st;
}

pp_status pp_pipeline_add(pp_ctx *ctx, pp_pipeline *pl, const char *filter, int nparams,
                          const char *const *keys, const double *values)
{
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!pl || !filter || nparams < 0 || (nparams > 0 && (!keys || !values)))
        return pp_fail(ctx, PP_ERR_INVALID, "pp_pipeline_add: %s",
                       !pl ? "the pipeline is NULL" : !filter ? "the filter name is NULL"
                       : nparams < 0 ? "nparams is negative" : "keys or values is NULL");
    const pp_filter_def *d = pp_filter_or_fail(ctx, filter);
    if (!d) return PP_ERR_SPEC;
    pp_filter_inst *inst = calloc(1, sizeof *inst);
    if (!inst) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    inst->def = d;
    pp_params_init(d, &inst->params);
    snprintf(inst->spec, sizeof inst->spec, "%s", filter);
    pp_status st = PP_OK;
    for (int i = 0; i < nparams && !st; i++)
        st = pp_params_set_number(ctx, &inst->params, keys[i], values[i]);
    if (!st) st = pp_params_check(ctx, &inst->params);
    if (!st) st = push(ctx, pl, inst);
    free(inst);
    return st;
}
