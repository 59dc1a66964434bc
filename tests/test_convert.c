/*
 * test_convert.c - the alpha conversions around the premultiplied filters of 8-bit RGBA
 * (src/convert.c): premultiply into 16 bits and unpremultiply back to 8, whichever variant this
 * CPU runs (AVX-512 or scalar), against their written definitions computed here in integers:
 *   P = round(257 c a / 255) (= (514 c a + 255) / 510), A = 257 a, for every (c, a);
 *   c = A ? min(255, round(P 255 / A)) : 0 (= (510 P + A) / (2 A)), a = round(A / 257), for
 *   every A with the P that are hardest (either side of each rounding boundary, exact halves,
 *   P >= A, 0) and opaque runs with every P.
 * Rows of odd widths, so the vector loops' tails run too, and 1..4 channels.
 */
#include "convert.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void run(pp_convert what, const void *in, int in_depth, void *out, int out_depth, int w,
                int h, int c)
{
    pp_stage *st = calloc(1, sizeof *st);
    cr_assert(st);
    st->src = (pp_view){(uint8_t *)(uintptr_t)in, (size_t)w * c * (size_t)(in_depth / 8), w, h, c, in_depth};
    st->dst = (pp_view){out, (size_t)w * c * (size_t)(out_depth / 8), w, h, c, out_depth};
    st->rows = h;
    pp_convert_kernel(what)(st, 0, h, 0, NULL);
    free(st);
}

Test(convert, premultiply_8_to_16_every_colour_and_alpha)
{
    for (int c = 2; c <= 4; c++) {
        const int w = 4099, h = 16; /* 65584 pixels: pixel i has alpha (i >> 8) & 255 */
        const size_t n = (size_t)w * h;
        uint8_t *in = malloc(n * c);
        uint16_t *out = malloc(n * c * sizeof *out);
        cr_assert(in && out);
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < c - 1; k++) in[i * c + k] = (uint8_t)((i + 85 * k) & 255);
            in[i * c + c - 1] = (uint8_t)((i >> 8) & 255);
        }
        run(PP_CONV_PREMUL8TO16, in, 8, out, 16, w, h, c);
        for (size_t i = 0; i < n; i++) {
            const uint32_t a = in[i * c + c - 1];
            for (int k = 0; k < c - 1; k++) {
                const uint32_t want = (514u * in[i * c + k] * a + 255u) / 510u;
                cr_assert_eq(out[i * c + k], want, "%d channels: c %u a %u -> %u, expected %u", c,
                             in[i * c + k], a, out[i * c + k], want);
            }
            cr_assert_eq(out[i * c + c - 1], 257u * a);
        }
        free(out);
        free(in);
    }
}

static uint8_t unpremul_ref(uint32_t p, uint32_t a)
{
    if (!a) return 0;
    const uint32_t v = (510u * p + a) / (2u * a);
    return (uint8_t)(v > 255u ? 255u : v);
}

/* The P of pixel j for alpha A: around the boundaries (2k+1) A / 510 of the rounding, exact
   halves where they exist, 0, A - 1, A, A + 1, 65535. */
static uint32_t hard_p(uint32_t a, int j)
{
    const int k = j / 3, d = j % 3 - 1; /* k = 0..20: boundaries spread over 0..255 */
    switch (k) {
    case 0: return d < 0 ? 0 : d == 0 ? (a ? a - 1 : 0) : a;
    case 1: return d < 0 ? a + 1 : d == 0 ? 65535 : a / 2;
    default: {
        const uint64_t level = (uint64_t)(k - 2) * 255 / 18; /* 0..255 */
        const int64_t p = (int64_t)((2 * level + 1) * a / 510) + d;
        return (uint32_t)(p < 0 ? 0 : p > 65535 ? 65535 : p);
    }
    }
}

Test(convert, unpremultiply_16_to_8_every_alpha)
{
    for (int c = 2; c <= 4; c++) {
        const int per = 63;             /* pixels per alpha: hard_p's 63 cases */
        const int w = 4099, h = 1008;   /* 4099 x 1008 >= 65536 x 63: every alpha */
        const size_t n = (size_t)w * h;
        uint16_t *in = malloc(n * c * sizeof *in);
        uint8_t *out = malloc(n * c);
        cr_assert(in && out);
        for (size_t i = 0; i < n; i++) {
            const uint32_t a = (uint32_t)((i / per) % 65536), p = hard_p(a, (int)(i % per));
            for (int k = 0; k < c - 1; k++) in[i * c + k] = (uint16_t)(k == 1 ? p : p ^ (k ? 1 : 0));
            in[i * c + c - 1] = (uint16_t)a;
        }
        run(PP_CONV_UNPREMUL16TO8, in, 16, out, 8, w, h, c);
        for (size_t i = 0; i < n; i++) {
            const uint32_t a = in[i * c + c - 1];
            for (int k = 0; k < c - 1; k++) {
                const uint8_t want = unpremul_ref(in[i * c + k], a);
                cr_assert_eq(out[i * c + k], want, "%d channels: P %u A %u -> %u, expected %u", c,
                             in[i * c + k], a, out[i * c + k], want);
            }
            cr_assert_eq(out[i * c + c - 1], (a + 128u) / 257u, "alpha %u", a);
        }
        free(out);
        free(in);
    }
}

Test(convert, unpremultiply_16_to_8_opaque_runs)
{
    const int w = 65536 / 8 + 3, h = 8, c = 4; /* every P in each colour channel, A = 65535 */
    const size_t n = (size_t)w * h;
    uint16_t *in = malloc(n * c * sizeof *in);
    uint8_t *out = malloc(n * c);
    cr_assert(in && out);
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) in[i * c + k] = (uint16_t)(i + 21845 * k);
        in[i * c + 3] = i % 1000 == 999 ? 65534 : 65535; /* a few vectors take the general path */
    }
    run(PP_CONV_UNPREMUL16TO8, in, 16, out, 8, w, h, c);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) {
            const uint32_t a = in[i * c + 3];
            const uint8_t want = k < 3 ? unpremul_ref(in[i * c + k], a) : (uint8_t)((a + 128u) / 257u);
            cr_assert_eq(out[i * c + k], want, "P %u A %u -> %u, expected %u", in[i * c + k], a,
                         out[i * c + k], want);
        }
    free(out);
    free(in);
}

/* 16-bit RGBA both ways: premultiply P = (C A + 32767) / 65535 and unpremultiply
   C = A ? min(65535, (131070 P + A) / (2 A)) : 0, for every A with the C (or P) that are
   hardest: either side of the rounding boundaries of results spread over 0..65535, 0, A - 1,
   A, A + 1, 65535. */
static uint32_t hard16(uint32_t a, int j, int unpremul)
{
    const int k = j / 3, d = j % 3 - 1;
    if (k == 0) return d < 0 ? 0 : d == 0 ? (a ? a - 1 : 0) : a;
    if (k == 1) return d < 0 ? (a < 65535 ? a + 1 : a) : d == 0 ? 65535 : a / 2;
    const uint64_t level = (uint64_t)(k - 2) * 65535 / 18;
    /* premultiply: C with C A near (2 level + 1) 65535 / 2; unpremultiply: P with P 65535 / A
       near level + 1/2 */
    int64_t v = unpremul ? (int64_t)((2 * level + 1) * a / 131070)
                         : (a ? (int64_t)((2 * level + 1) * 65535 / (2 * (uint64_t)a)) : 0);
    v += d;
    return (uint32_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
}

Test(convert, premultiply_and_unpremultiply_16_every_alpha)
{
    const int per = 63, w = 4099, h = 1008, c = 4; /* every alpha, 63 hard values each */
    const size_t n = (size_t)w * h;
    uint16_t *in = malloc(n * c * sizeof *in), *out = malloc(n * c * sizeof *out);
    cr_assert(in && out);
    for (int unpremul = 0; unpremul <= 1; unpremul++) {
        for (size_t i = 0; i < n; i++) {
            const uint32_t a = (uint32_t)((i / per) % 65536), v = hard16(a, (int)(i % per), unpremul);
            for (int k = 0; k < 3; k++) in[i * c + k] = (uint16_t)(k == 1 ? v : v ^ (uint32_t)k);
            in[i * c + 3] = (uint16_t)a;
        }
        run(unpremul ? PP_CONV_UNPREMUL16 : PP_CONV_PREMUL16, in, 16, out, 16, w, h, c);
        for (size_t i = 0; i < n; i++) {
            const uint64_t a = in[i * c + 3];
            for (int k = 0; k < 3; k++) {
                const uint64_t v = in[i * c + k];
                uint64_t want;
                if (!unpremul) want = (v * a + 32767) / 65535;
                else want = a ? (v * 131070 + a) / (2 * a) : 0;
                if (want > 65535) want = 65535;
                cr_assert_eq(out[i * c + k], want, "%s: %u with A %u -> %u, expected %u",
                             unpremul ? "unpremultiply" : "premultiply", (unsigned)v, (unsigned)a,
                             out[i * c + k], (unsigned)want);
            }
            cr_assert_eq(out[i * c + 3], a);
        }
    }
    free(out);
    free(in);
}
