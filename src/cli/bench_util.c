/*
 * bench_util.c - helpers of `pixpool bench`: the monotonic clock, medians, the FNV-1a hash of an
 * image's pixels, a fast synthetic photo-like image and the machine/build facts that every
 * report carries.
 *
 * The synthetic image is a deterministic function of the pixel coordinates and the seed: a sky
 * gradient with clouds, a sun with a glow, two ranges of hills with textured ground, a few
 * stones and a little grain, so blurs, medians and edges have gradients, edges and fine detail
 * to work on (a flat or purely random image would flatter or punish some kernels). It uses
 * precomputed value-noise lattices and per-column tables, so a 12-megapixel image takes a
 * fraction of a second on one core.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

volatile sig_atomic_t bench_interrupted = 0;

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_summarise(const double *v, int n, bench_stats *s)
{
    memset(s, 0, sizeof *s);
    if (n <= 0) return;
    double *c = malloc((size_t)n * sizeof *c);
    if (!c) return;
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    s->runs = n;
    s->min = c[0];
    s->max = c[n - 1];
    s->median = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv_bytes(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint64_t bench_hash_image(pp_image *im)
{
    uint64_t h = FNV_OFFSET;
    uint32_t geom[3] = {(uint32_t)pp_image_width(im), (uint32_t)pp_image_height(im),
                        (uint32_t)pp_image_channels(im)};
    h = fnv_bytes(h, (const uint8_t *)geom, sizeof geom);
    const uint8_t *d = pp_image_data(im);
    size_t stride = pp_image_stride(im);
    size_t row = (size_t)geom[0] * geom[2] * (size_t)(pp_image_depth(im) / 8);
    for (uint32_t y = 0; y < geom[1]; y++) h = fnv_bytes(h, d + (size_t)y * stride, row);
    return h;
}

/* ---- the synthetic image ---------------------------------------------------------------- */

static uint32_t mix2(uint32_t x, uint32_t y, uint32_t seed)
{
    uint32_t h = x * 0x9e3779b1u ^ (y + 0x7f4a7c15u) * 0x85ebca77u ^ seed * 0xc2b2ae3du;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    return h ^ (h >> 15);
}

static float unit(uint32_t h) { return (float)(h & 0xffffu) * (1.0f / 65535.0f); }
static float smoothf(float t) { return t * t * (3.0f - 2.0f * t); }
static float clampf(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

/* Value noise on a lattice of `cell` pixels, with per-column indices and weights precomputed. */
typedef struct noise {
    int gw, gh;
    float cell;
    float *lat; /* gh x gw */
    int *ix;    /* per column */
    float *fx;
} noise;

static int noise_init(noise *n, int w, int h, float cell, uint32_t seed)
{
    n->cell = cell;
    n->gw = (int)(w / cell) + 2;
    n->gh = (int)(h / cell) + 2;
    n->lat = malloc((size_t)n->gw * (size_t)n->gh * sizeof *n->lat);
    n->ix = malloc((size_t)w * sizeof *n->ix);
    n->fx = malloc((size_t)w * sizeof *n->fx);
    if (!n->lat || !n->ix || !n->fx) return -1;
    for (int j = 0; j < n->gh; j++)
        for (int i = 0; i < n->gw; i++)
            n->lat[(size_t)j * n->gw + i] = unit(mix2((uint32_t)i, (uint32_t)j, seed));
    for (int x = 0; x < w; x++) {
        float f = x / cell;
        n->ix[x] = (int)f;
        n->fx[x] = smoothf(f - (float)(int)f);
    }
    return 0;
}

static void noise_free(noise *n)
{
    free(n->lat);
    free(n->ix);
    free(n->fx);
}

/* Row pointers and vertical weight for row y. */
static void noise_row(const noise *n, int y, const float **r0, const float **r1, float *fy)
{
    float f = y / n->cell;
    int iy = (int)f;
    *fy = smoothf(f - (float)iy);
    *r0 = n->lat + (size_t)iy * n->gw;
    *r1 = *r0 + n->gw;
}

static float noise_at(const noise *n, const float *r0, const float *r1, float fy, int x)
{
    int i = n->ix[x];
    float t = n->fx[x];
    float a = r0[i] + (r0[i + 1] - r0[i]) * t;
    float b = r1[i] + (r1[i + 1] - r1[i]) * t;
    return a + (b - a) * fy;
}

typedef struct stone {
    float cx, cy, r, col[3];
} stone;

#define NSTONES 12
#define NNOISE 4 /* clouds (2 octaves), ground texture (2 octaves) */

void bench_fill_image(pp_image *im, uint32_t seed)
{
    const int w = pp_image_width(im), h = pp_image_height(im), c = pp_image_channels(im);
    const size_t stride = pp_image_stride(im);
    uint8_t *data = pp_image_data(im);
    const float minwh = (float)(w < h ? w : h);
    noise nz[NNOISE];
    memset(nz, 0, sizeof nz);
    const float cells[NNOISE] = {w / 5.0f + 1, w / 13.0f + 1, 24.0f, 7.0f};
    float *ridge = malloc(2 * (size_t)w * sizeof *ridge);
    float *rgb = malloc(3 * (size_t)w * sizeof *rgb);
    int fail = !ridge || !rgb;
    for (int k = 0; k < NNOISE && !fail; k++)
        fail = noise_init(&nz[k], w, h, cells[k], seed * 7u + (uint32_t)k);
    if (fail) { /* out of memory: a plain gradient still makes a usable benchmark image */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w * c; x++)
                data[(size_t)y * stride + (size_t)x] = (uint8_t)((x + y) & 255);
        goto done;
    }
    /* two hill ridges: row (in pixels) of each ridge per column */
    for (int layer = 0; layer < 2; layer++) {
        float base = layer ? 0.68f : 0.55f;
        for (int x = 0; x < w; x++) {
            float u = (float)x / (float)w;
            float f = x / (w / 9.0f + 1), t = smoothf(f - (float)(int)f);
            float a = unit(mix2((uint32_t)f, (uint32_t)layer, seed + 91));
            float b = unit(mix2((uint32_t)f + 1, (uint32_t)layer, seed + 91));
            float g = x / 37.0f, tg = smoothf(g - (float)(int)g);
            float ga = unit(mix2((uint32_t)g, (uint32_t)layer + 5, seed + 92));
            float gb = unit(mix2((uint32_t)g + 1, (uint32_t)layer + 5, seed + 92));
            ridge[layer * w + x] = h * (base + 0.07f * sinf(u * 6.3f + layer * 2.0f) +
                                        0.08f * (a + (b - a) * t - 0.5f) +
                                        0.015f * (ga + (gb - ga) * tg - 0.5f));
        }
    }
    stone st[NSTONES];
    for (int i = 0; i < NSTONES; i++) {
        st[i].cx = unit(mix2((uint32_t)i, 1, seed + 5)) * w;
        st[i].cy = (0.78f + 0.2f * unit(mix2((uint32_t)i, 2, seed + 5))) * h;
        st[i].r = (0.01f + 0.03f * unit(mix2((uint32_t)i, 3, seed + 5))) * minwh;
        for (int k = 0; k < 3; k++) st[i].col[k] = 0.3f + 0.6f * unit(mix2((uint32_t)i, 4 + k, seed));
    }
    const float sx = 0.72f * w, sy = 0.2f * h, sr = 0.07f * minwh + 1.0f;
    const float glow_r = sr * 6.0f;
    for (int y = 0; y < h; y++) {
        const float v = (float)y / (float)h;
        const float *r0[NNOISE], *r1[NNOISE];
        float fy[NNOISE];
        for (int k = 0; k < NNOISE; k++) noise_row(&nz[k], y, &r0[k], &r1[k], &fy[k]);
        const float sky[3] = {0.35f + 0.3f * v, 0.55f + 0.25f * v, 0.9f - 0.1f * v};
        for (int x = 0; x < w; x++) {
            float *p = rgb + 3 * (size_t)x;
            float hill0 = clampf(0.5f - (ridge[x] - y) * 0.5f);
            float hill1 = clampf(0.5f - (ridge[w + x] - y) * 0.5f);
            p[0] = sky[0], p[1] = sky[1], p[2] = sky[2];
            if (hill0 < 1.0f) { /* some sky shows: clouds */
                float n = 0.67f * noise_at(&nz[0], r0[0], r1[0], fy[0], x) +
                          0.33f * noise_at(&nz[1], r0[1], r1[1], fy[1], x);
                float cl = clampf((n - 0.5f) * 3.0f);
                for (int k = 0; k < 3; k++) p[k] = p[k] * (1 - cl) + 0.97f * cl;
            }
            if (hill0 > 0.0f) {
                float tex = 0.6f * noise_at(&nz[2], r0[2], r1[2], fy[2], x) +
                            0.4f * noise_at(&nz[3], r0[3], r1[3], fy[3], x);
                float shade = 0.8f + 0.4f * v;
                float g0[3] = {0.35f + 0.2f * tex, 0.4f + 0.2f * tex, 0.45f + 0.15f * tex};
                float g1[3] = {0.25f + 0.3f * tex, 0.45f + 0.3f * tex, 0.15f + 0.1f * tex};
                for (int k = 0; k < 3; k++) {
                    p[k] = p[k] * (1 - hill0) + g0[k] * hill0 * shade;
                    p[k] = p[k] * (1 - hill1) + g1[k] * hill1 * shade;
                }
            }
        }
        /* the sun and its glow, only near it */
        if (y > sy - glow_r && y < sy + glow_r) {
            int x0 = (int)(sx - glow_r), x1 = (int)(sx + glow_r) + 1;
            if (x0 < 0) x0 = 0;
            if (x1 > w) x1 = w;
            for (int x = x0; x < x1; x++) {
                float *p = rgb + 3 * (size_t)x;
                if (clampf(0.5f - (ridge[x] - y) * 0.5f) >= 1.0f) continue; /* behind the hills */
                float d = hypotf(x - sx, y - sy) - sr;
                float sun = clampf(0.5f - d / 3.0f);
                float glow = expf(-fmaxf(d, 0.0f) / (sr * 0.8f)) * 0.35f;
                p[0] = p[0] * (1 - sun) + sun + glow;
                p[1] = p[1] * (1 - sun) + 0.92f * sun + glow * 0.8f;
                p[2] = p[2] * (1 - sun) + 0.6f * sun;
            }
        }
        for (int i = 0; i < NSTONES; i++) {
            const stone *s = &st[i];
            if (y < s->cy - s->r - 2 || y > s->cy + s->r + 2) continue;
            int x0 = (int)(s->cx - s->r - 2), x1 = (int)(s->cx + s->r + 3);
            if (x0 < 0) x0 = 0;
            if (x1 > w) x1 = w;
            for (int x = x0; x < x1; x++) {
                float *p = rgb + 3 * (size_t)x;
                float m = clampf(0.5f - (hypotf(x - s->cx, y - s->cy) - s->r) / 2.0f);
                float shade = clampf(0.75f + 0.25f * (s->cy - y) / s->r);
                for (int k = 0; k < 3; k++) p[k] = p[k] * (1 - m) + s->col[k] * shade * m;
            }
        }
        uint8_t *out = data + (size_t)y * stride;
        for (int x = 0; x < w; x++) {
            const float *p = rgb + 3 * (size_t)x;
            float grain = ((float)(mix2((uint32_t)x, (uint32_t)y, seed + 99) & 255u) / 255.0f - 0.5f) *
                          0.03f;
            uint8_t q[3];
            for (int k = 0; k < 3; k++) q[k] = (uint8_t)(clampf(p[k] + grain) * 255.0f + 0.5f);
            uint8_t *o = out + (size_t)x * c;
            if (c >= 3) {
                o[0] = q[0], o[1] = q[1], o[2] = q[2];
            } else {
                o[0] = (uint8_t)((299u * q[0] + 587u * q[1] + 114u * q[2] + 500u) / 1000u);
            }
            if (c == 2 || c == 4) { /* a soft vignette in alpha */
                float du = (float)x / (float)w - 0.5f, dv = v - 0.5f;
                o[c - 1] = (uint8_t)(clampf(1.25f - sqrtf(du * du + dv * dv) * 1.6f) * 255.0f + 0.5f);
            }
        }
    }
done:
    for (int k = 0; k < NNOISE; k++) noise_free(&nz[k]);
    free(ridge);
    free(rgb);
}

/* ---- facts ---------------------------------------------------------------------------------- */

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
}

void bench_collect_facts(bench_facts *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->cpu_model, sizeof f->cpu_model, "unknown");
    FILE *in = fopen("/proc/cpuinfo", "r");
    if (in) {
        char line[512];
        while (fgets(line, sizeof line, in)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *colon = strchr(line, ':');
                if (colon) {
                    colon++;
                    while (*colon == ' ' || *colon == '\t') colon++;
                    snprintf(f->cpu_model, sizeof f->cpu_model, "%s", colon);
                    trim(f->cpu_model);
                }
                break;
            }
        }
        fclose(in);
    }
    f->cpus = pp_cpu_count();
    struct utsname u;
    if (uname(&u) == 0) snprintf(f->kernel, sizeof f->kernel, "%s %s", u.sysname, u.release);
    else snprintf(f->kernel, sizeof f->kernel, "unknown");
    f->load[0] = f->load[1] = f->load[2] = -1;
    in = fopen("/proc/loadavg", "r");
    if (in) {
        if (fscanf(in, "%lf %lf %lf", &f->load[0], &f->load[1], &f->load[2]) != 3)
            f->load[0] = f->load[1] = f->load[2] = -1;
        fclose(in);
    }
#if defined(__clang__)
    snprintf(f->compiler, sizeof f->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(f->compiler, sizeof f->compiler, "gcc %s", __VERSION__);
#else
    snprintf(f->compiler, sizeof f->compiler, "%s", __VERSION__);
#endif
    trim(f->compiler);
    /* The CLI is compiled with the build type's flags; CMake's build type itself is not passed
       to it, so it is inferred from what the preprocessor sees. */
    const char *type, *extra = "";
#if defined(__OPTIMIZE__) && defined(NDEBUG)
    type = "optimised, NDEBUG (CMake Release or RelWithDebInfo)";
#elif defined(__OPTIMIZE__)
    type = "optimised, assertions on";
#else
    type = "not optimised (CMake Debug or no build type)";
#endif
#if defined(__SANITIZE_ADDRESS__)
    extra = ", AddressSanitizer";
#endif
    snprintf(f->build, sizeof f->build, "%s%s", type, extra);
#ifdef _OPENMP
    f->openmp = _OPENMP;
#endif
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm)) strftime(f->date, sizeof f->date, "%Y-%m-%dT%H:%M:%S%z", &tm);
    f->version = pp_version();
}

const char *bench_backend_name(int backend)
{
    switch (backend) {
    case PP_BACKEND_SERIAL: return "serial";
    case PP_BACKEND_OPENMP: return "openmp";
    case PP_BACKEND_FORK: return "fork";
    default: return "?";
    }
}

void bench_flag_cell(bench_cell *c, const bench_cell *serial)
{
    c->flag = NULL;
    if (!c->timed) return;
    const bench_stats *t = &c->t;
    if (t->runs < 3)
        c->flag = "fewer than 3 runs";
    else if (t->min > 0 && t->median > 1.5 * t->min)
        c->flag = "median over 1.5 times the fastest run: noisy";
    else if (t->median < 1.0 && t->runs < 30 && t->median * t->runs < BENCH_MIN_CELL_MS)
        c->flag = "sub-millisecond cell measured too briefly";
    else if (c != serial && serial->timed && serial->flag)
        c->flag = "the serial baseline is unreliable";
    else if (c->efficiency > 1.1)
        c->flag = "efficiency above 1: noise or cache effects, not scaling";
    else if (c->workers > 1 && isfinite(c->karp_flatt) &&
             (c->karp_flatt < -0.1 || c->karp_flatt > 1.1))
        c->flag = "serial fraction outside 0..1";
}

int bench_widen_image(pp_ctx *ctx, pp_image **im)
{
    pp_image *wide;
    if (pp_image_convert_depth(ctx, *im, 16, &wide)) {
        cli_error("--depth 16: %s", pp_ctx_last_error(ctx));
        return -1;
    }
    const int w = pp_image_width(wide), h = pp_image_height(wide), c = pp_image_channels(wide);
    uint32_t s = 0x9e3779b9u;
    for (int y = 0; y < h; y++) {
        uint16_t *row = (uint16_t *)(void *)(pp_image_data(wide) + (size_t)y * pp_image_stride(wide));
        for (size_t i = 0; i < (size_t)w * (size_t)c; i++) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            int v = (int)row[i] + (int)(s >> 24) - 128;
            row[i] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
        }
    }
    pp_image_free(*im);
    *im = wide;
    return 0;
}
