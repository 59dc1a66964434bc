/*
 * test_kernels.c - exhaustive checks of the fast kernels against their written definitions
 * (the fast paths use multiply-shift forms, table permutes and SIMD; these tests pin them to
 * the definitions for every possible input).
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(kernels, grayscale_equals_rounded_definition_for_all_rgb)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    pp_image *in;
    cr_assert_eq(pp_image_new(ctx, 4096, 4096, 3, &in), PP_OK);
    uint8_t *d = pp_image_data(in);
    for (uint32_t v = 0; v < (1u << 24); v++) {
        d[3 * (size_t)v] = (uint8_t)(v >> 16);
        d[3 * (size_t)v + 1] = (uint8_t)(v >> 8);
        d[3 * (size_t)v + 2] = (uint8_t)v;
    }
    pp_image *out = th_apply(ctx, "grayscale", in);
    const uint8_t *o = pp_image_data(out);
    for (uint32_t v = 0; v < (1u << 24); v++) {
        unsigned r = v >> 16, g = (v >> 8) & 255, b = v & 255;
        unsigned want = (299 * r + 587 * g + 114 * b + 500) / 1000;
        if (o[v] != want) cr_assert_fail("grayscale(%u,%u,%u) = %u, want %u", r, g, b, o[v], want);
    }
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

Test(kernels, lut_filters_on_every_value_and_alignment)
{
    /* every byte value at every position modulo 64 (the vector width), with a ragged tail */
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    const int w = 256 * 64 + 13;
    pp_image *in;
    cr_assert_eq(pp_image_new(ctx, w, 1, 1, &in), PP_OK);
    uint8_t *d = pp_image_data(in);
    for (int i = 0; i < w; i++) d[i] = (uint8_t)(i * 7 + i / 256);
    pp_image *inv = th_apply(ctx, "invert", in);
    pp_image *lin = th_apply(ctx, "linear:a=1.2,b=10", in);
    pp_image *gam = th_apply(ctx, "gamma:g=2.2", in);
    for (int i = 0; i < w; i++) {
        double v = d[i];
        cr_assert_eq(pp_image_data(inv)[i], 255 - d[i]);
        double l = round(1.2 * v + 10);
        cr_assert_eq(pp_image_data(lin)[i], l > 255 ? 255 : l, "linear(%u)", d[i]);
        cr_assert_eq(pp_image_data(gam)[i], (uint8_t)round(255 * pow(v / 255, 1 / 2.2)), "gamma(%u)", d[i]);
    }
    pp_image_free(inv);
    pp_image_free(lin);
    pp_image_free(gam);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

/* The packed-band paths of the point kernels: a band is one run of bytes that starts anywhere
   (odd band heights, odd widths), written with streaming stores when input and output exceed
   32 MiB together (the second size) and with ordinary stores otherwise (the first). */
Test(kernels, point_kernels_on_packed_bands_small_and_streamed)
{
    const int sizes[][2] = {{1001, 301}, {4001, 1503}};
    for (int k = 0; k < 2; k++) {
        const int w = sizes[k][0], h = sizes[k][1];
        pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
        cr_assert_eq(pp_ctx_set_band_rows(ctx, 37), PP_OK);
        pp_image *in = th_random_image(ctx, w, h, 3, 5 + k);
        const uint8_t *d = pp_image_data(in);
        pp_image *inv = th_apply(ctx, "invert", in);
        pp_image *lin = th_apply(ctx, "linear:a=1.2,b=10", in);
        pp_image *gray = th_apply(ctx, "grayscale", in);
        const uint8_t *oi = pp_image_data(inv), *ol = pp_image_data(lin), *og = pp_image_data(gray);
        const size_t n = (size_t)w * (size_t)h;
        for (size_t i = 0; i < 3 * n; i++) {
            if (oi[i] != 255 - d[i]) cr_assert_fail("invert at byte %zu of %dx%d", i, w, h);
            double l = round(1.2 * d[i] + 10);
            if (ol[i] != (l > 255 ? 255 : l)) cr_assert_fail("linear at byte %zu of %dx%d", i, w, h);
        }
        for (size_t i = 0; i < n; i++) {
            unsigned want = (299u * d[3 * i] + 587u * d[3 * i + 1] + 114u * d[3 * i + 2] + 500) / 1000;
            if (og[i] != want) cr_assert_fail("grayscale at pixel %zu of %dx%d", i, w, h);
        }
        /* the same image with a gap after each row takes the per-row, ordinary-store paths:
           the packed (streamed, for the larger size) run must give the same bytes, also with
           one table per channel (equalize) */
        const size_t row = 3 * (size_t)w, stride = row + 7;
        uint8_t *gapped = malloc(stride * (size_t)h);
        cr_assert_not_null(gapped);
        for (int y = 0; y < h; y++) memcpy(gapped + (size_t)y * stride, d + (size_t)y * row, row);
        pp_image *win;
        cr_assert_eq(pp_image_wrap(ctx, gapped, w, h, 3, stride, &win), PP_OK);
        const char *specs[] = {"invert", "equalize", "grayscale"};
        for (int k = 0; k < 3; k++) {
            pp_image *a = th_apply(ctx, specs[k], in), *b = th_apply(ctx, specs[k], win);
            cr_assert(th_same(a, b), "%s: packed and gapped rows differ on %dx%d", specs[k], w, h);
            pp_image_free(a);
            pp_image_free(b);
        }
        pp_image_free(win);
        free(gapped);
        pp_image_free(inv);
        pp_image_free(lin);
        pp_image_free(gray);
        pp_image_free(in);
        pp_ctx_free(ctx);
    }
}

/* box against its definition, computed naively: floor((2 S + n) / (2 n)) over the clamped window */
Test(kernels, box_equals_naive_window_mean)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    const int w = 37, h = 23;
    for (int c = 1; c <= 3; c += 2) {
        pp_image *in = th_random_image(ctx, w, h, c, 77 + c);
        const uint8_t *d = pp_image_data(in);
        for (int r = 0; r <= 12; r++) {
            char spec[32];
            snprintf(spec, sizeof spec, "box:radius=%d", r);
            pp_image *out = th_apply(ctx, spec, in);
            const uint8_t *o = pp_image_data(out);
            const long n = (2L * r + 1) * (2L * r + 1);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int k = 0; k < c; k++) {
                        long sum = 0;
                        for (int dy = -r; dy <= r; dy++)
                            for (int dx = -r; dx <= r; dx++) {
                                int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
                                int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
                                sum += d[((size_t)yy * w + xx) * c + k];
                            }
                        cr_assert_eq(o[((size_t)y * w + x) * c + k], (2 * sum + n) / (2 * n),
                                     "r=%d at %d,%d", r, x, y);
                    }
            pp_image_free(out);
        }
        pp_image_free(in);
    }
    pp_ctx_free(ctx);
}

static int cmp_u8(const void *a, const void *b) { return *(const uint8_t *)a - *(const uint8_t *)b; }

/* median: the selection network (radius 1-3), the sliding histogram and a plain sort agree */
Test(kernels, median_network_histogram_and_sort_agree)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    const int sizes[][2] = {{131, 29}, {3, 3}, {70, 2}, {1, 9}};
    for (int z = 0; z < 4; z++)
        for (int c = 1; c <= 3; c += 2) {
            const int w = sizes[z][0], h = sizes[z][1];
            pp_image *in = th_random_image(ctx, w, h, c, 5 + z * 3 + c);
            /* also long runs of equal values, where ties matter */
            uint8_t *d = pp_image_data(in);
            for (int i = 0; i < w * h * c; i += 7) d[i] = d[i] & 0xC0;
            for (int r = 1; r <= 3; r++) {
                char a[64], b[64];
                snprintf(a, sizeof a, "median:radius=%d", r);
                snprintf(b, sizeof b, "median:radius=%d,method=histogram", r);
                pp_image *net = th_apply(ctx, a, in), *hist = th_apply(ctx, b, in);
                cr_assert(th_same(net, hist), "%s differs from the histogram method on %dx%dx%d", a, w, h, c);
                const uint8_t *o = pp_image_data(net);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        for (int k = 0; k < c; k++) {
                            uint8_t v[49];
                            int m = 0;
                            for (int dy = -r; dy <= r; dy++)
                                for (int dx = -r; dx <= r; dx++) {
                                    int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
                                    int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
                                    v[m++] = d[((size_t)yy * w + xx) * c + k];
                                }
                            qsort(v, (size_t)m, 1, cmp_u8);
                            cr_assert_eq(o[((size_t)y * w + x) * c + k], v[m / 2], "r=%d at %d,%d", r, x, y);
                        }
                pp_image_free(net);
                pp_image_free(hist);
            }
            pp_image_free(in);
        }
    pp_ctx_free(ctx);
}

#include "../filters/median_net.h"

/* 0-1 principle: a comparator network selects the k-th smallest of all inputs iff it does so for
   every input of 0s and 1s. 64 inputs at a time, one per bit: min is AND, max is OR. */
static void check_network(const uint8_t (*net)[2], size_t ncmp, int n, int out)
{
    for (uint64_t base = 0; base < (1ull << n); base += 64) {
        uint64_t w[25];
        for (int j = 0; j < n; j++) {
            uint64_t bits = 0;
            for (int b = 0; b < 64 && base + (uint64_t)b < (1ull << n); b++)
                bits |= (((base + (uint64_t)b) >> j) & 1) << b;
            w[j] = bits;
        }
        for (size_t q = 0; q < ncmp; q++) {
            uint64_t a = w[net[q][0]], b = w[net[q][1]];
            w[net[q][0]] = a & b;
            w[net[q][1]] = a | b;
        }
        for (int b = 0; b < 64 && base + (uint64_t)b < (1ull << n); b++) {
            int ones = __builtin_popcountll(base + (uint64_t)b);
            int want = ones > n / 2; /* the median of n (odd) 0/1 values */
            if ((int)((w[out] >> b) & 1) != want)
                cr_assert_fail("network of %d fails on input %#llx", n, (unsigned long long)(base + b));
        }
    }
}

Test(kernels, median_networks_zero_one_principle)
{
    check_network(pp_median9_net, sizeof pp_median9_net / 2, 9, PP_MEDIAN9_OUT);
    check_network(pp_median25_net, sizeof pp_median25_net / 2, 25, PP_MEDIAN25_OUT);
}

/* The median-of-49 network, built again here as median_net.h says: Batcher's odd-even merge
   sort on 64 wires (a sorting network), the comparators that touch a padding wire (>= 49)
   dropped, then the ones that cannot reach wire 24 (a backward walk). The table must be exactly
   that list, in that order: then it selects the median because the sort does. */
Test(kernels, median49_network_is_pruned_batcher)
{
    enum { N = 64, M = 49 };
    static uint8_t all[1024][2];
    int n = 0;
    for (int p = 1; p < N; p *= 2)
        for (int k = p; k >= 1; k /= 2)
            for (int j = k % p; j <= N - 1 - k; j += 2 * k)
                for (int i = 0; i <= (k - 1 < N - j - k - 1 ? k - 1 : N - j - k - 1); i++)
                    if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < M) {
                        all[n][0] = (uint8_t)(i + j);
                        all[n][1] = (uint8_t)(i + j + k);
                        n++;
                    }
    bool need[M] = {false};
    need[M / 2] = true;
    bool keep[1024] = {false};
    int kept = 0;
    for (int q = n - 1; q >= 0; q--)
        if (need[all[q][0]] || need[all[q][1]]) {
            keep[q] = true;
            need[all[q][0]] = need[all[q][1]] = true;
            kept++;
        }
    const int ncmp = (int)(sizeof pp_median49_net / 2);
    cr_assert_eq(kept, ncmp, "pruned Batcher has %d comparators, the table %d", kept, ncmp);
    cr_assert_eq(PP_MEDIAN49_OUT, M / 2);
    int t = 0;
    for (int q = 0; q < n; q++)
        if (keep[q]) {
            cr_assert(all[q][0] == pp_median49_net[t][0] && all[q][1] == pp_median49_net[t][1],
                      "comparator %d is {%d, %d}, expected {%d, %d}", t, pp_median49_net[t][0],
                      pp_median49_net[t][1], all[q][0], all[q][1]);
            t++;
        }
}

/* And the network itself on inputs: 0/1 inputs with 24 and 25 ones (where the median flips),
   64 at a time as bits, and random 16-bit values against a sort. */
Test(kernels, median49_network_selects_median)
{
    uint64_t s = 12345;
#define NEXT() (s = s * 6364136223846793005ull + 1442695040888963407ull, s >> 33)
    for (int round = 0; round < 20000; round++) {
        uint64_t w[49], want = 0;
        for (int j = 0; j < 49; j++) w[j] = 0;
        for (int b = 0; b < 64; b++) {
            const int ones = 24 + (b & 1); /* a random set of 24 or 25 of the 49 wires */
            int idx[49];
            for (int j = 0; j < 49; j++) idx[j] = j;
            for (int j = 0; j < ones; j++) {
                const int pick = j + (int)(NEXT() % (uint64_t)(49 - j));
                const int tmp = idx[j];
                idx[j] = idx[pick];
                idx[pick] = tmp;
                w[idx[j]] |= 1ull << b;
            }
            if (ones == 25) want |= 1ull << b;
        }
        for (size_t q = 0; q < sizeof pp_median49_net / 2; q++) {
            const uint64_t a = w[pp_median49_net[q][0]], b = w[pp_median49_net[q][1]];
            w[pp_median49_net[q][0]] = a & b;
            w[pp_median49_net[q][1]] = a | b;
        }
        cr_assert_eq(w[PP_MEDIAN49_OUT], want, "0/1 round %d", round);
    }
    for (int round = 0; round < 20000; round++) {
        uint16_t v[49], sorted[49];
        for (int j = 0; j < 49; j++)
            sorted[j] = v[j] = (uint16_t)(round & 1 ? NEXT() % 5 : NEXT() % 65536);
        for (size_t q = 0; q < sizeof pp_median49_net / 2; q++) {
            const uint16_t a = v[pp_median49_net[q][0]], b = v[pp_median49_net[q][1]];
            v[pp_median49_net[q][0]] = a < b ? a : b;
            v[pp_median49_net[q][1]] = a < b ? b : a;
        }
        for (int i = 1; i < 49; i++) /* insertion sort */
            for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                const uint16_t tmp = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = tmp;
            }
        cr_assert_eq(v[PP_MEDIAN49_OUT], sorted[24], "value round %d", round);
    }
#undef NEXT
}

/* unsharp = its definition on top of pixpool's own gaussian, for amounts that take the
   multiply-shift path and the table path */
Test(kernels, unsharp_equals_definition)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    pp_image *in = th_random_image(ctx, 97, 41, 3, 11);
    const uint8_t *d = pp_image_data(in);
    pp_image *blur = th_apply(ctx, "gaussian:sigma=1.5", in);
    const uint8_t *b = pp_image_data(blur);
    const double amounts[] = {0, 0.3, 1, 1.7, 2.5, 0.123457, 20};
    const int thresholds[] = {0, 5};
    for (size_t a = 0; a < sizeof amounts / sizeof amounts[0]; a++)
        for (int t = 0; t < 2; t++) {
            char spec[96];
            snprintf(spec, sizeof spec, "unsharp:sigma=1.5,amount=%.6f,threshold=%d", amounts[a],
                     thresholds[t]);
            pp_image *out = th_apply(ctx, spec, in);
            const uint8_t *o = pp_image_data(out);
            for (int i = 0; i < 97 * 41 * 3; i++) {
                int dd = d[i] - b[i];
                double v = d[i] + round(amounts[a] * dd);
                int want = abs(dd) < thresholds[t] ? d[i] : v < 0 ? 0 : v > 255 ? 255 : (int)v;
                cr_assert_eq(o[i], want, "%s at %d: v=%d blur=%d", spec, i, d[i], b[i]);
            }
            pp_image_free(out);
        }
    pp_image_free(blur);
    pp_image_free(in);
    pp_ctx_free(ctx);
}
