/*
 * internal.h - what the library's modules share and the outside world does not see.
 *
 * The three layers and their contract (see docs/DESIGN.md):
 *  - filters (files in filters/) describe themselves with a pp_filter_def: their parameters
 *    (PP_PARAM, bound by name to an argument struct) and a plan() that, for an input geometry,
 *    gives the output geometry and a list of stages;
 *  - a stage is "compute rows [y0, y1) of the iteration space with this kernel": a kernel pointer
 *    and plain data (views, a fixed-size parameter blob) with no pointer to anything but pixels
 *    and partial-result slots, so it can be copied into shared memory as is;
 *  - executors (exec*.c) run a stage's bands; they never know which filter a stage belongs to,
 *    and the rest of the library uses them only through their table (pp_executor).
 * The pipeline (pipeline.c) is the only place that knows both: it plans, provides buffers and
 * hands stages to the context's executor. Below everything: error.c and sys.c.
 */
#ifndef PP_INTERNAL_H
#define PP_INTERNAL_H

#include "pixpool.h"
#include "meta.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PP_ERRMSG_MAX 512
#define PP_PARAM_BYTES 4096 /* size of a stage's parameter blob */
#define PP_MAX_PARAMS 8     /* parameters per filter */
#define PP_MAX_LIST 225     /* values of a list parameter (a 15x15 kernel) */
#define PP_MAX_STAGES 8
#define PP_MAX_TEMPS 4
#define PP_ALIGN 64

/* ---- executors --------------------------------------------------------------------------- */

struct pp_stage;
typedef struct pp_executor pp_executor;

/* A block of memory an executor's workers can see, and the owner that takes it back. The block
   holds one reference on its owner (a heap or an arena), so it may outlive the context. */
typedef struct pp_block {
    uint8_t *data;
    size_t bytes;
    void (*release)(void *owner, void *data, size_t bytes); /* NULL: nothing to release */
    void *owner;
} pp_block;

/* Gives the block back to its owner (nothing for an empty or borrowed block) and empties it. */
static inline void pp_block_release(pp_block *b)
{
    if (b->release && b->data) b->release(b->owner, b->data, b->bytes);
    b->data = NULL;
    b->bytes = 0;
    b->release = NULL;
    b->owner = NULL;
}

/* Executor interface: one table per backend. Code outside exec*.c uses an executor only through
   this table (pp_executor_for, pp_executor_local) and never asks which one it has. */
struct pp_executor {
    const char *name;
    /* Runs every band of the stage; returns PP_OK or an error (message set on ctx). */
    pp_status (*run)(pp_ctx *ctx, const struct pp_stage *stage);
    /* Workers a stage runs on (each with its own kernel scratch): 1 for serial. */
    int (*workers)(const pp_ctx *ctx);
    /* `bytes` bytes of memory this executor's workers can see (heap for threads, the shared
       arena for processes), aligned to PP_ALIGN, contents undefined, with the owner that takes
       it back (pp_block_release). Returns PP_OK, or an error status with *out empty; the
       message on ctx is set only when the executor knows why (the arena is full, or belongs to
       another process), else left as it was. */
    pp_status (*alloc)(pp_ctx *ctx, size_t bytes, pp_block *out);
    /* true when ptr lies in memory the executor's workers can read (any pointer for threads). */
    bool (*can_see)(pp_ctx *ctx, const void *ptr);
    /* Releases what the executor keeps for the context (pool, arena, heap, scratch); safe to
       call when it keeps nothing, and more than once. */
    void (*teardown)(pp_ctx *ctx);
};

extern const pp_executor pp_exec_serial;
extern const pp_executor pp_exec_openmp;
extern const pp_executor pp_exec_fork;

/* The executor of a backend; NULL for a value that names none (pp_ctx_set_backend refuses it). */
const pp_executor *pp_executor_for(pp_backend backend);
/* The executor that runs a stage on the calling thread, on heap memory (tiny combine steps, a
   PNG of one strip): serial. */
const pp_executor *pp_executor_local(void);
/* Every executor's teardown (pp_ctx_free). */
void pp_executors_teardown(pp_ctx *ctx);

/* Band geometry shared by all executors, so that band boundaries never depend on the backend
   (band.c). */
int pp_band_count(int rows, int band_rows);
/* The band height used for a stage: the stage's own (fixed, for reductions), else the
   context's override, else a default derived from rows and workers. */
int pp_stage_band_rows(const pp_ctx *ctx, const struct pp_stage *stage, int workers);

struct pp_fork_pool; /* exec_fork.c */
struct pp_arena;     /* arena.c */
struct pp_heap;      /* heap.c */

/* ---- context ----------------------------------------------------------------------------- */

struct pp_ctx {
    pp_backend backend;
    int workers;   /* as set; 0 = auto */
    int auto_workers; /* the CPU budget when the context was made: what 0 means */
    int band_rows; /* 0 = auto */
    pp_progress_fn progress; /* NULL: none (pp_ctx_set_progress) */
    void *progress_user;
    uint64_t max_pixels;
    uint64_t max_memory; /* bytes of pixel buffers one load or one pipeline run may hold;
                            checked before allocating (see pp_ctx_set_max_memory) */
    int png_level;
    int jpeg_quality;
    pp_jpeg_subsample jpeg_subsample;
    int jpeg_progressive, jpeg_optimize; /* 0 or 1 */
    pp_tiff_compression tiff_compression;
    int save_depth;  /* 0 (the image's), 8 or 16: pp_save's output depth (pp_ctx_set_save_depth) */
    unsigned strip;  /* pp_meta_kind flags pp_save leaves out (pp_ctx_set_strip) */
    int auto_orient; /* 0 or 1: pp_load applies the EXIF orientation (pp_ctx_set_auto_orient) */
    size_t png_strip_bytes; /* filtered bytes per PNG strip; 0 = PP_PNG_STRIP_BYTES (tests set
                               it small to cut small images into several strips) */
    size_t jpeg_strip_bytes; /* pixel bytes per JPEG strip; 0 = PP_JPEG_STRIP_BYTES (tests) */
    char errmsg[PP_ERRMSG_MAX];
    struct pp_fork_pool *pool; /* created on first use of the fork backend */
    struct pp_arena *arena;    /* shared memory of the fork backend (refcounted) */
    struct pp_heap *heap;      /* recycled pixel buffers of serial/openmp (refcounted) */
    void *omp_scratch;         /* per-thread scratch of the OpenMP executor */
    size_t omp_scratch_bytes;
};

/* The PNG encoder's strip size (codec/png_write.c): filtered bytes deflated as one piece by one
   worker. 512 KiB: enough strips for load balance from 1 MP up, and the dictionary each strip
   is primed with (32 KiB) costs little. */
#define PP_PNG_STRIP_BYTES ((size_t)512 << 10)
/* Pixel bytes (one per component) of a JPEG strip (jpeg_write.c), rounded down to whole rows of
   MCUs: each is one restart interval, encoded by one worker. */
#define PP_JPEG_STRIP_BYTES ((size_t)1 << 20)

/* ---- the ground floor: error.c and sys.c call nothing else of the library ----------------- */

/* Sets ctx->errmsg from a printf format and returns status (for `return pp_fail(...)`). */
pp_status pp_fail(pp_ctx *ctx, pp_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pp_clear_error(pp_ctx *ctx);
int pp_online_cpus(void); /* CPUs this process may run on (affinity; sys.c) */
/* The CPU limit of a cgroup hierarchy (sys.c): `root` is where cgroupfs is mounted
   (/sys/fs/cgroup), `self_cgroup` the file listing this process's cgroups (/proc/self/cgroup).
   Reads cgroup v2 cpu.max ("quota period" or "max period") and cgroup v1 cpu.cfs_quota_us /
   cpu.cfs_period_us along this process's cgroup path and its ancestors, and returns the
   smallest ceil(quota / period), or 0 when there is no quota. (pp_cpu_budget uses it.) */
int pp_cgroup_cpus(const char *root, const char *self_cgroup);

/* The worker count the context asks for: its setting, or the CPU budget read when the context
   was made (pp_cpu_budget) when that is 0 (auto). */
static inline int pp_workers_setting(const pp_ctx *ctx)
{
    return ctx->workers > 0 ? ctx->workers : ctx->auto_workers > 0 ? ctx->auto_workers : 1;
}

uint64_t pp_default_max_memory(void); /* a new context's memory limit (ctx.c) */

/* The progress callback, for executors (on the calling thread only): bands done of total in the
   stage being run. Returns PP_OK, or PP_ERR_INTERRUPTED with its message when the callback asks
   to stop. */
static inline pp_status pp_progress_report(pp_ctx *ctx, int done, int total)
{
    if (!ctx->progress || ctx->progress(ctx->progress_user, done, total) == 0) return PP_OK;
    return pp_fail(ctx, PP_ERR_INTERRUPTED, "interrupted by the progress callback (%d of %d "
                   "bands of a stage done)", done, total);
}

/* ---- images ------------------------------------------------------------------------------ */

struct pp_image {
    int width, height, channels, depth;
    size_t stride;
    uint8_t *data;
    pp_block block; /* the allocation (an executor's); empty for the caller's buffer
                       (pp_image_wrap) */
    pp_meta meta;             /* metadata blobs (meta.h), freed with the image */
};

/* Checked size of a width x height x channels image against ctx limits (dimensions, pixels,
   and its bytes against the memory limit); PP_ERR_LIMIT / PP_ERR_INVALID with a message naming
   `what` (a file name or "image"). */
pp_status pp_check_size(pp_ctx *ctx, const char *what, int64_t width, int64_t height,
                        int channels, size_t *bytes_out);
/* The same for `depth` (8 or 16) bits per channel: bytes_out counts 2 bytes a sample at 16. */
pp_status pp_check_size_depth(pp_ctx *ctx, const char *what, int64_t width, int64_t height,
                              int channels, int depth, size_t *bytes_out);

/* PP_ERR_LIMIT with a message naming the memory limit when `held` bytes already held by one
   operation plus `more` bytes it is about to allocate exceed ctx->max_memory; `what` (a file
   name or a filter spec) prefixes the message, `purpose` says what the bytes are for
   ("pixel buffers", "decoder buffers"). Saturating arithmetic: no overflow. */
pp_status pp_check_memory(pp_ctx *ctx, const char *what, uint64_t held, uint64_t more,
                          const char *purpose);

/* Allocates an uninitialised image whose pixels the given executor's workers can see. */
pp_status pp_image_alloc(pp_ctx *ctx, const pp_executor *ex, int width, int height,
                         int channels, pp_image **out);
pp_status pp_image_alloc_depth(pp_ctx *ctx, const pp_executor *ex, int width, int height,
                               int channels, int depth, pp_image **out);

/* ---- views, stages, kernels -------------------------------------------------------------- */

/* A plain view of pixels: no ownership. depth is 8 (uint8_t samples) or 16 (uint16_t samples,
   native byte order; 0 is read as 8); stride is in bytes either way. */
typedef struct pp_view {
    uint8_t *data;
    size_t stride;
    int width, height, channels;
    int depth;
} pp_view;

static inline uint8_t *pp_row(const pp_view *v, int y) { return v->data + (size_t)y * v->stride; }
/* Row y of a 16-bit view. */
static inline uint16_t *pp_row16(const pp_view *v, int y)
{
    return (uint16_t *)(void *)(v->data + (size_t)y * v->stride);
}
/* Bytes per sample: 1 or 2. */
static inline int pp_view_bps(const pp_view *v) { return v->depth == 16 ? 2 : 1; }
/* Bytes per pixel. */
static inline size_t pp_view_pixel_bytes(const pp_view *v)
{
    return (size_t)v->channels * (size_t)pp_view_bps(v);
}

/* Whether the rows of v follow each other without a gap (as the pipeline allocates them), so a
   band of rows is one run of bytes. */
static inline bool pp_view_packed(const pp_view *v)
{
    return v->stride == (size_t)v->width * pp_view_pixel_bytes(v);
}

/* Whether a kernel that reads `src` and writes each byte of `dst` once should write with
   non-temporal (streaming) stores: when input and output together exceed a typical last-level
   cache, the output would not stay cached for the next stage anyway, and streaming stores skip
   the read-for-ownership of every output line. Measured on the 2-core development machine (32
   MiB L3), 14 MP RGB: invert 3.9 -> 2.0 ms, grayscale 1.77 -> 1.45 ms. A kernel that streams
   must end with a store fence (_mm_sfence) before it returns: the executors' release/acquire
   hand-over does not order streaming stores. */
#define PP_STREAM_MIN_BYTES ((size_t)32 << 20)
static inline bool pp_stream_worth(const pp_view *src, const pp_view *dst)
{
    return src->stride * (size_t)src->height + dst->stride * (size_t)dst->height >=
           PP_STREAM_MIN_BYTES;
}

typedef struct pp_stage pp_stage;

/* A kernel computes rows [y0, y1) of its stage's iteration space (band number `band`), using
   `scratch` (stage->scratch_bytes bytes, private to the calling worker, aligned to PP_ALIGN,
   contents undefined). Kernels are pure: no allocation, no I/O, no threads, no failure. */
typedef void (*pp_kernel_fn)(const pp_stage *stage, int y0, int y1, int band, void *scratch);

struct pp_stage {
    pp_kernel_fn kernel;
    pp_view src;        /* main input */
    pp_view aux;        /* second input (e.g. the original for unsharp), may be empty */
    pp_view dst;        /* output */
    uint8_t *partials;  /* reduction slots (see pp_plan.partial_bytes), may be NULL */
    int rows;           /* iteration space: rows 0..rows-1 (usually dst.height) */
    int band_rows;      /* 0: executor chooses; >0: fixed (reductions rely on it) */
    int min_band_rows;  /* lower bound for the executor's choice (halo-heavy kernels) */
    int serial;         /* 1: run as a single band on the caller (tiny combine steps) */
    size_t scratch_bytes;
    _Alignas(16) unsigned char params[PP_PARAM_BYTES];
};

/* ---- plans and filters ------------------------------------------------------------------- */

/* Buffer ids used by stage templates. */
enum { PP_BUF_NONE = -1, PP_BUF_IN = 0, PP_BUF_OUT = 1, PP_BUF_TMP = 2 /* + i */ };

/* An image geometry. depth: 8 or 16 bits per channel; 0 is read as 8 (so a filter that builds
   a geometry without naming the depth gets 8-bit buffers). A plan that copies its input's
   geometry (plan->out = *in) keeps its depth. */
typedef struct pp_geom {
    int width, height, channels;
    int depth;
} pp_geom;

typedef struct pp_stage_tmpl {
    pp_kernel_fn kernel;
    int src, aux, dst; /* PP_BUF_* */
    int rows;          /* 0: the dst buffer's height */
    int band_rows;
    int min_band_rows;
    int serial;
    size_t scratch_bytes;
    _Alignas(16) unsigned char params[PP_PARAM_BYTES];
} pp_stage_tmpl;

typedef struct pp_plan {
    pp_geom out;
    int ntemps;
    pp_geom temps[PP_MAX_TEMPS];
    size_t partial_bytes; /* one zeroed block shared by the stages (reductions) */
    int nstages;
    pp_stage_tmpl stages[PP_MAX_STAGES];
} pp_plan;

/* A list parameter's values (PP_PARAM_LIST). */
typedef struct pp_list {
    int n;
    double v[PP_MAX_LIST];
} pp_list;

/* One parameter of a filter, declared once: its public description and the field of the
   filter's argument struct its value goes to (PP_FIELD). The field's type follows the
   parameter's: int for PP_PARAM_INT and PP_PARAM_ENUM (the choice's index), double for
   PP_PARAM_FLOAT, pp_list for PP_PARAM_LIST. */
typedef struct pp_param_def {
    pp_param_info info;
    size_t offset;
} pp_param_def;
#define PP_FIELD(type, field) offsetof(type, field)
/* One pp_param_def: the parameter named as the field `field` of the argument struct `args`,
   of type PP_PARAM_<type>, default, range, choices (enum) or NULL, PP_PARAM_<need>, help. */
#define PP_PARAM(args, field, type, def, min, max, choices, need, help)                          \
    {{#field, PP_PARAM_##type, def, min, max, choices, PP_PARAM_##need, help},                  \
     PP_FIELD(args, field)}

#define PP_ARGS_BYTES 2048 /* room for a filter's argument struct */

/* The arguments of one filter instance: the filter's argument struct (defaults, then the
   values given), and which parameters were given. Filled by params.c only. */
typedef struct pp_params {
    _Alignas(16) unsigned char args[PP_ARGS_BYTES];
    bool set[PP_MAX_PARAMS];
    const struct pp_filter_def *def;
} pp_params;
#define PP_ARGS(type, p) ((const type *)(const void *)(p)->args)

/* How the pipeline treats an alpha channel around a filter. */
typedef enum pp_alpha_mode {
    PP_ALPHA_SELF = 0,   /* the kernel handles alpha itself (colour ops leave it alone) */
    PP_ALPHA_PREMUL = 1  /* run on premultiplied colour, then unpremultiply */
} pp_alpha_mode;

/* Depths a filter's plan handles (pp_filter_def.depths). */
enum { PP_DEPTH_8 = 1u << 0, PP_DEPTH_16 = 1u << 1 };

typedef struct pp_filter_def {
    pp_filter_info info; /* info.params is left NULL: the registry fills the public copy */
    pp_alpha_mode alpha;
    /* Validates the parameters against the geometry and fills the plan. Writes a message into
       err (errlen bytes) and returns PP_ERR_SPEC (or PP_ERR_LIMIT) when they cannot apply.
       The arguments have passed pp_params_check (types, ranges, required ones). */
    pp_status (*plan)(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                      size_t errlen);
    const pp_param_def *params; /* the parameters, declared once (PP_PARAM_DEFS) */
    int nparams;
    /* PP_DEPTH_* bits: the input depths plan() accepts (0 means PP_DEPTH_8 only). The pipeline
       refuses other inputs before planning. A PP_ALPHA_PREMUL filter with PP_DEPTH_16 gets
       8-bit RGBA input as 16-bit premultiplied colour (exact alpha), so it must give 16-bit
       output for 16-bit input. */
    unsigned depths;
} pp_filter_def;

/* `params, nparams` of a pp_filter_def from a static array of pp_param_def. */
#define PP_PARAM_DEFS(a) a, (int)(sizeof(a) / sizeof(a[0]))

/* Helpers for plan functions. */
pp_stage_tmpl *pp_plan_add_stage(pp_plan *plan, pp_kernel_fn kernel, int src, int dst);
#define PP_PARAMS_OF(type, tmpl) ((type *)(void *)(tmpl)->params)
#define PP_STAGE_PARAMS(type, stage) ((const type *)(const void *)(stage)->params)

/* Number of colour channels (channels without alpha): 1 for gray/gray+alpha, 3 for RGB/RGBA. */
static inline int pp_color_channels(int channels) { return channels >= 3 ? 3 : 1; }
static inline bool pp_has_alpha(int channels) { return channels == 2 || channels == 4; }

/* Round half away from zero and clamp to 0..255. */
static inline uint8_t pp_clamp_round(double v)
{
    if (!(v > 0.0)) return 0; /* also NaN */
    if (v >= 254.5) return 255;
    return (uint8_t)(v + 0.5);
}
static inline uint8_t pp_clamp_int(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }
/* The same at 16 bits: round half away from zero and clamp to 0..65535. */
static inline uint16_t pp_clamp_round16(double v)
{
    if (!(v > 0.0)) return 0; /* also NaN */
    if (v >= 65534.5) return 65535;
    return (uint16_t)(v + 0.5);
}
static inline uint16_t pp_clamp_int16(int64_t v)
{
    return (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
}
/* The depth of a geometry (0 read as 8). */
static inline int pp_geom_depth(const pp_geom *g) { return g->depth == 16 ? 16 : 8; }

/* The registry: every filter family file exports its table. */
typedef struct pp_filter_family {
    const pp_filter_def *defs;
    int count;
} pp_filter_family;

const pp_filter_def *pp_registry_find(const char *name);
int pp_registry_count(void);
const pp_filter_def *pp_registry_at(int i);
/* Whether every output pixel of the filter is a copy of an input pixel: the family of
   filters/geometry.c (flip, flop, transpose, rotate, crop; resize is a family of its own). The
   output's colours are then among the input's, and pp_meta_pass keeps a palette PNG's
   palette. */
bool pp_filter_copies_pixels(const pp_filter_def *d);

/* ---- arguments (params.c): the one validator of the spec parser and pp_pipeline_add ------ */

/* The defaults of d's parameters, nothing given yet. */
void pp_params_init(const pp_filter_def *d, pp_params *p);
/* Sets parameter `key` from its text in a spec / from a number (pp_pipeline_add): an unknown
   key, a key given twice, a value of the wrong type or out of range fail with PP_ERR_SPEC and a
   message naming the filter and the parameter. */
pp_status pp_params_set_text(pp_ctx *ctx, pp_params *p, const char *key, const char *text);
pp_status pp_params_set_number(pp_ctx *ctx, pp_params *p, const char *key, double value);
/* After the last value: PP_ERR_SPEC when a PP_PARAM_REQUIRED parameter is missing, or none of
   the PP_PARAM_GROUP ones was given. */
pp_status pp_params_check(pp_ctx *ctx, const pp_params *p);
/* Whether the parameter `name` was given (not defaulted). */
bool pp_param_given(const pp_params *p, const char *name);
/* "a, b, c" or "none": the names of d's parameters, for messages. */
void pp_params_names(const pp_filter_def *d, char *buf, size_t len);

/* ---- pipeline ---------------------------------------------------------------------------- */

typedef struct pp_filter_inst {
    const pp_filter_def *def;
    pp_params params;
    char spec[128]; /* for messages */
} pp_filter_inst;

struct pp_pipeline {
    int count, cap;
    pp_filter_inst *items;
};

/* Parses one spec into an instance, checked (spec.c; message on ctx). */
pp_status pp_parse_spec(pp_ctx *ctx, const char *spec, pp_filter_inst *out);
/* The filter `name`, or NULL with PP_ERR_SPEC's message listing the filters (spec.c). */
const pp_filter_def *pp_filter_or_fail(pp_ctx *ctx, const char *name);

/* ---- heap buffers (serial and OpenMP executors) ------------------------------------------ */

/* Pixel buffers of the thread executors. Large buffers are mapped with transparent huge pages
   requested and, when freed, kept (a few, bounded) for the next image of the same size: a
   fresh 42 MB buffer costs ~14 ms of page faults on first touch, a recycled one nothing. Every
   live block holds a reference on its pp_heap, so images may outlive their context and may be
   freed from any thread (a mutex guards the cache). */
struct pp_heap *pp_heap_get(pp_ctx *ctx); /* the context's heap, created on first use */
pp_status pp_heap_alloc(pp_ctx *ctx, size_t bytes, pp_block *out); /* PP_ERR_NOMEM, no message */
bool pp_heap_can_see(pp_ctx *ctx, const void *ptr);
void pp_heap_release(struct pp_heap *heap, void *ptr, size_t bytes); /* frees, drops the ref */
void pp_heap_unref(struct pp_heap *heap);
uint8_t *pp_scratch(pp_ctx *ctx, size_t per, int n, size_t *stride_out);
void pp_heap_teardown(pp_ctx *ctx); /* drops the context's heap reference, frees its scratch */

/* ---- shared arena (fork backend) --------------------------------------------------------- */

/* Every block allocated from an arena holds a reference to it; releasing the block drops it,
   so an arena outlives its context while images still live in it. */
void pp_arena_release(struct pp_arena *arena, void *ptr, size_t bytes);

/* Measurements of the context's fork pool, for `pixpool bench` (zeros when there is none). */
typedef struct pp_fork_stats {
    int pool_starts;        /* pools forked so far, restarts included */
    int workers;            /* workers of the running pool (0: none) */
    double last_startup_ms; /* last start: first fork() until every worker reported ready */
    uint64_t stages;        /* stages completed by the pool */
    double last_stage_ms;   /* wall time of the last stage, publication to completion */
    double total_stage_ms;  /* sum over all stages */
} pp_fork_stats;
void pp_fork_get_stats(const pp_ctx *ctx, pp_fork_stats *out);

#endif /* PP_INTERNAL_H */
