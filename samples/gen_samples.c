/*
 * gen_samples.c - draws the bundled sample images (photo-like, text-free) with libpixpool.
 *
 *   gen_samples [OUTDIR]   (default: the current directory)
 *
 * Each image is a deterministic function of its pixel coordinates: smooth gradients (sky,
 * ground), soft-edged shapes (sun, hills, discs), multi-octave value noise for texture and a
 * little grain, so filters have edges, gradients and fine detail to work on. Sizes and channel
 * counts vary (gray, gray+alpha, RGB, RGBA; odd sizes) to exercise every code path.
 */
#include "pixpool.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash2(int x, int y, uint32_t seed)
{
    uint32_t h = (uint32_t)x * 374761393u + (uint32_t)y * 668265263u + seed * 2246822519u;
    h = (h ^ (h >> 13)) * 1274126177u;
    return h ^ (h >> 16);
}

static double lattice(int x, int y, uint32_t seed) { return (hash2(x, y, seed) & 0xffff) / 65535.0; }

static double smooth(double t) { return t * t * (3 - 2 * t); }

/* Value noise in [0, 1] with the given cell size. */
static double vnoise(double x, double y, double cell, uint32_t seed)
{
    double fx = x / cell, fy = y / cell;
    int ix = (int)floor(fx), iy = (int)floor(fy);
    double tx = smooth(fx - ix), ty = smooth(fy - iy);
    double a = lattice(ix, iy, seed), b = lattice(ix + 1, iy, seed);
    double c = lattice(ix, iy + 1, seed), d = lattice(ix + 1, iy + 1, seed);
    return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

static double fbm(double x, double y, double cell, uint32_t seed)
{
    double v = 0, amp = 0.5, tot = 0;
    for (int o = 0; o < 4; o++) {
        v += amp * vnoise(x, y, cell, seed + (uint32_t)o);
        tot += amp;
        amp *= 0.5;
        cell *= 0.5;
    }
    return v / tot;
}

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }
static double soft(double d, double edge) { return clamp01(0.5 - d / edge); } /* d<0 inside */

/* A landscape: sky, sun, hills, textured ground. rgb in 0..1. */
static void landscape(int w, int h, int x, int y, uint32_t seed, double rgb[3], double *alpha)
{
    double u = (double)x / w, v = (double)y / h;
    double sky[3] = {0.35 + 0.3 * v, 0.55 + 0.25 * v, 0.9 - 0.1 * v};
    double cloud = clamp01((fbm(x, y * 2.0, w / 5.0, seed) - 0.55) * 3.0);
    for (int k = 0; k < 3; k++) rgb[k] = sky[k] * (1 - cloud) + 0.97 * cloud;
    /* sun */
    double sx = 0.72 * w, sy = 0.22 * h, sr = 0.07 * (w < h ? w : h);
    double sd = hypot(x - sx, y - sy) - sr;
    double sun = soft(sd, 3.0), glow = exp(-fmax(sd, 0) / (sr * 0.8)) * 0.35;
    rgb[0] = rgb[0] * (1 - sun) + 1.0 * sun + glow;
    rgb[1] = rgb[1] * (1 - sun) + 0.92 * sun + glow * 0.8;
    rgb[2] = rgb[2] * (1 - sun) + 0.6 * sun;
    /* two hill ranges */
    for (int layer = 0; layer < 2; layer++) {
        double base = layer ? 0.68 : 0.55;
        double ridge = base + 0.08 * sin(u * 6.3 + layer * 2) + 0.06 * (fbm(x, layer * 97, w / 6.0, seed + 11) - 0.5);
        double hd = (ridge * h - y); /* >0 above the ridge */
        double hill = clamp01(0.5 - hd / 2.0);
        double tex = fbm(x, y, 24.0 + layer * 16, seed + 31 + layer);
        double g[3] = {layer ? 0.25 + 0.3 * tex : 0.35 + 0.2 * tex, layer ? 0.45 + 0.3 * tex : 0.4 + 0.2 * tex,
                       layer ? 0.15 + 0.1 * tex : 0.45 + 0.15 * tex};
        for (int k = 0; k < 3; k++) rgb[k] = rgb[k] * (1 - hill) + g[k] * hill * (0.8 + 0.4 * v);
    }
    /* a few discs (stones, flowers) in the foreground */
    for (int i = 0; i < 12; i++) {
        double cx = lattice(i, 1, seed + 5) * w, cy = (0.75 + 0.22 * lattice(i, 2, seed + 5)) * h;
        double r = (0.01 + 0.03 * lattice(i, 3, seed + 5)) * w;
        double m = soft(hypot(x - cx, y - cy) - r, 2.0);
        double col[3] = {0.5 + 0.5 * lattice(i, 4, seed), 0.3 + 0.5 * lattice(i, 5, seed), 0.2 + 0.6 * lattice(i, 6, seed)};
        double shade = 0.75 + 0.25 * ((cy - y) / r);
        for (int k = 0; k < 3; k++) rgb[k] = rgb[k] * (1 - m) + col[k] * clamp01(shade) * m;
    }
    double grain = ((hash2(x, y, seed + 99) & 255) / 255.0 - 0.5) * 0.03;
    for (int k = 0; k < 3; k++) rgb[k] = clamp01(rgb[k] + grain);
    double ad = hypot(u - 0.5, v - 0.5);
    *alpha = clamp01(1.25 - ad * 1.6);
}

static int make(const char *dir, const char *name, int w, int h, int c, uint32_t seed)
{
    pp_ctx *ctx = pp_ctx_new();
    pp_image *im = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!ctx || pp_image_new(ctx, w, h, c, &im)) {
        fprintf(stderr, "gen_samples: %s: %s\n", path, ctx ? pp_ctx_last_error(ctx) : "no memory");
        pp_ctx_free(ctx);
        return 1;
    }
    uint8_t *d = pp_image_data(im);
    size_t stride = pp_image_stride(im);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double rgb[3], a;
            landscape(w, h, x, y, seed, rgb, &a);
            uint8_t *p = d + (size_t)y * stride + (size_t)x * c;
            if (c >= 3) {
                for (int k = 0; k < 3; k++) p[k] = (uint8_t)lround(rgb[k] * 255);
            } else {
                p[0] = (uint8_t)lround((0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) * 255);
            }
            if (c == 2 || c == 4) p[c - 1] = (uint8_t)lround(a * 255);
        }
    pp_ctx_set_png_level(ctx, 9);
    int rc = 0;
    if (pp_save(ctx, im, path)) {
        fprintf(stderr, "gen_samples: %s\n", pp_ctx_last_error(ctx));
        rc = 1;
    } else {
        printf("%s: %dx%d, %d channel%s\n", path, w, h, c, c > 1 ? "s" : "");
    }
    pp_image_free(im);
    pp_ctx_free(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int rc = 0;
    rc |= make(dir, "landscape-rgb-1024x768.png", 1024, 768, 3, 1);
    rc |= make(dir, "valley-rgb-800x600.png", 800, 600, 3, 2);
    rc |= make(dir, "portrait-rgb-480x640.png", 480, 640, 3, 3);
    rc |= make(dir, "hills-gray-640x480.png", 640, 480, 1, 4);
    rc |= make(dir, "vignette-rgba-512x384.png", 512, 384, 4, 5);
    rc |= make(dir, "fog-grayalpha-320x240.png", 320, 240, 2, 6);
    rc |= make(dir, "odd-rgb-257x131.png", 257, 131, 3, 7);
    return rc;
}
