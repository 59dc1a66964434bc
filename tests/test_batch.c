/*
 * test_batch.c - unit tests of the pieces of `pixpool batch` that the shell test cannot reach
 * easily: the jobs x threads planner (the budget itself is the library's: test_budget.c), path
 * normalisation, output names, the walk (loops, the output folder, order), collisions, shards
 * and JSON string escaping. It links the CLI's object library (pixpool_cli_obj).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/batch.h"

/* ---- the CPU budget ---------------------------------------------------------------------- */

Test(budget, plan)
{
    int j, t;
    cr_assert_eq(batch_plan_workers(0, 0, 16, 200, 0, &j, &t), 0);
    cr_assert(j == 16 && t == 1);
    cr_assert_eq(batch_plan_workers(0, 0, 16, 3, 0, &j, &t), 0);
    cr_assert(j == 3 && t == 5, "%d x %d", j, t);
    cr_assert_eq(batch_plan_workers(0, 0, 16, 1, 0, &j, &t), 0);
    cr_assert(j == 1 && t == 16);
    cr_assert_eq(batch_plan_workers(0, 0, 16, 3, 1, &j, &t), 0);
    cr_assert(j == 3 && t == 1, "serial: %d x %d", j, t);
    cr_assert_eq(batch_plan_workers(8, 0, 2, 100, 0, &j, &t), 1);
    cr_assert(j == 2 && t == 1);
    cr_assert_eq(batch_plan_workers(0, 8, 4, 100, 0, &j, &t), 1);
    cr_assert(j == 1 && t == 4);
    cr_assert_eq(batch_plan_workers(4, 4, 8, 100, 0, &j, &t), 1);
    cr_assert(j == 4 && t == 2);
    cr_assert_eq(batch_plan_workers(2, 3, 8, 100, 0, &j, &t), 0);
    cr_assert(j == 2 && t == 3);
    cr_assert_eq(batch_plan_workers(4, 0, 8, 2, 0, &j, &t), 0);
    cr_assert(j == 2 && t == 4, "%d x %d", j, t);
    cr_assert_eq(batch_plan_workers(0, 0, 4, 0, 0, &j, &t), 0);
    cr_assert(j >= 1 && t >= 1 && j * t <= 4);
    for (int b = 1; b <= 12; b++)
        for (int aj = 0; aj <= 13; aj++)
            for (int at = 0; at <= 13; at++)
                for (size_t n = 0; n <= 14; n += 7) {
                    batch_plan_workers(aj, at, b, n, 0, &j, &t);
                    cr_assert(j >= 1 && t >= 1 && j * t <= b, "%d %d %d %zu: %d x %d", aj, at, b,
                              n, j, t);
                }
}

/* ---- names ------------------------------------------------------------------------------- */

static void norm_is(const char *in, const char *want)
{
    const char *why = NULL;
    char *got = batch_normalise_rel(in, &why);
    if (!want) {
        cr_assert_null(got, "'%s' gave '%s'", in, got);
        cr_assert_not_null(why);
    } else {
        cr_assert_not_null(got, "'%s' refused: %s", in, why);
        cr_assert_str_eq(got, want);
    }
    free(got);
}

Test(names, normalise)
{
    norm_is("a.png", "a.png");
    norm_is("./a.png", "a.png");
    norm_is("a/./b/../c.png", "a/c.png");
    norm_is("a//b.png", "a/b.png");
    norm_is("a/b/../../c.png", "c.png");
    norm_is("dir/", "dir");
    norm_is("../x.png", NULL);
    norm_is("a/../../x.png", NULL);
    norm_is("/etc/x.png", NULL);
    norm_is("a/..", NULL);
    norm_is(".", NULL);
    norm_is("..a/b..", "..a/b..");
}

static void out_is(const char *rel, int fmt, const char *want)
{
    char *got = batch_output_name(rel, fmt);
    cr_assert_str_eq(got, want, "%s -> %s, want %s", rel, got, want);
    free(got);
}

Test(names, outputs)
{
    out_is("a/b.png", BF_SAME, "a/b.png");
    out_is("a/B.JPG", BF_SAME, "a/B.JPG");
    out_is("x.jpeg", BF_SAME, "x.jpeg");
    out_is("x.bmp", BF_SAME, "x.bmp");
    out_is("x.TGA", BF_SAME, "x.TGA");
    out_is("a/b.gif", BF_SAME, "a/b.png");
    out_is("p.psd", BF_SAME, "p.png");
    out_is("p.hdr", BF_SAME, "p.png");
    out_is("p.pnm", BF_SAME, "p.png");
    out_is("p.ppm", BF_SAME, "p.png");
    out_is("p.PGM", BF_SAME, "p.png");
    out_is("x.jpeg", BF_PNG, "x.png");
    out_is("x.PNG", BF_PNG, "x.PNG");
    out_is("x.png", BF_JPG, "x.jpg");
    out_is("x.JPEG", BF_JPG, "x.JPEG");
    out_is("x.png", BF_BMP, "x.bmp");
    out_is("x.png", BF_TGA, "x.tga");
    out_is("dir.v1/noext", BF_SAME, "dir.v1/noext.png");
    out_is(".hidden", BF_SAME, ".hidden.png");
}

Test(names, image_extensions)
{
    const char *yes[] = {"a.png", "A.PNG", "b.jpg", "b.JPEG", "c.bmp", "d.tga", "e.GIF", "f.psd",
                         "g.hdr", "h.pnm", "i.ppm", "j.Pgm", "dir.x/k.png"};
    const char *no[] = {"a.txt", ".png", "png", "a.png.bak", "dir.png/x", "a.pp-tmp-AbC123", "a."};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        cr_assert(batch_is_image_name(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        cr_assert(!batch_is_image_name(no[i]), "%s", no[i]);
}

Test(names, fnv1a64)
{
    cr_assert_eq(batch_fnv1a64(""), 0xcbf29ce484222325u);
    cr_assert_eq(batch_fnv1a64("a"), 0xaf63dc4c8601ec8cu);
    cr_assert_eq(batch_fnv1a64("foobar"), 0x85944171f73967e8u);
}

/* ---- the walk, collisions, shards -------------------------------------------------------- */

Test(walk, order_loops_and_output_folder)
{
    char *d = th_tmpdir("batch");
    th_put(d, "in/b.png", "x");
    th_put(d, "in/a.JPG", "x");
    th_put(d, "in/notes.txt", "x");
    th_put(d, "in/sub/c.gif", "x");
    th_put(d, "in/sub/deep/d.tga", "x");
    th_put(d, "in/out/old.png", "x"); /* the output folder: never entered */
    char p[4200], t[4200], in[4200];
    snprintf(in, sizeof in, "%s/in", d);
    snprintf(p, sizeof p, "%s/in/sub/deep/up", d);
    cr_assert_eq(symlink("../..", p), 0);
    snprintf(p, sizeof p, "%s/in/sub/link.png", d);
    snprintf(t, sizeof t, "%s/in/b.png", d);
    cr_assert_eq(symlink(t, p), 0);
    struct stat ost;
    snprintf(p, sizeof p, "%s/in/out", d);
    cr_assert_eq(stat(p, &ost), 0);

    batch_list l = {0};
    cr_assert_eq(batch_walk(in, 1, 1, ost.st_dev, ost.st_ino, 0, &l), 0);
    cr_assert_eq(batch_finish_list(&l, in, BF_SAME), 0);
    const char *want[] = {"a.JPG", "b.png", "sub/c.gif", "sub/deep/d.tga", "sub/link.png"};
    cr_assert_eq(l.count, 5, "%zu files", l.count);
    for (size_t i = 0; i < l.count; i++) {
        cr_assert_str_eq(l.items[i].rel, want[i]);
        cr_assert_null(l.items[i].refused);
    }
    cr_assert_str_eq(l.items[2].out_rel, "sub/c.png");
    cr_assert_eq(l.errors, 0);
    batch_list_free(&l);

    cr_assert_eq(batch_walk(in, 0, 0, 0, 0, 0, &l), 0);
    cr_assert_eq(l.count, 2);
    batch_list_free(&l);
    th_rm_rf(d);
}

Test(walk, collisions_and_shards)
{
    char *d = th_tmpdir("batch");
    char in[4200];
    snprintf(in, sizeof in, "%s/in", d);
    char name[64];
    for (int i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "in/f%02d.png", i);
        th_put(d, name, "x");
    }
    th_put(d, "in/f00.gif", "x"); /* f00.gif -> f00.png: same output as f00.png */
    batch_list l = {0};
    cr_assert_eq(batch_walk(in, 0, 0, 0, 0, 0, &l), 0);
    cr_assert_eq(batch_finish_list(&l, in, BF_SAME), 0);
    cr_assert_eq(l.count, 61);
    int refused = 0;
    for (size_t i = 0; i < l.count; i++)
        if (l.items[i].refused) {
            refused++;
            cr_assert_str_eq(l.items[i].rel, "f00.png"); /* "f00.gif" < "f00.png" keeps the name */
            cr_assert(strstr(l.items[i].refused, "is also the output of"), "%s",
                      l.items[i].refused);
        }
    cr_assert_eq(refused, 1);
    batch_list_free(&l);

    int seen[61] = {0};
    size_t total = 0;
    for (int k = 1; k <= 3; k++) {
        batch_list s = {0};
        batch_walk(in, 0, 0, 0, 0, 0, &s);
        batch_finish_list(&s, in, BF_SAME);
        batch_shard(&s, k, 3);
        cr_assert(s.count > 5 && s.count < 40, "shard %d has %zu", k, s.count);
        total += s.count;
        for (size_t i = 0; i < s.count; i++) {
            int n = -1;
            if (!strcmp(s.items[i].rel, "f00.gif"))
                n = 60;
            else
                sscanf(s.items[i].rel, "f%d.png", &n);
            cr_assert(n >= 0 && n <= 60);
            seen[n]++;
        }
        batch_list_free(&s);
    }
    cr_assert_eq(total, 61);
    for (int i = 0; i <= 60; i++) cr_assert_eq(seen[i], 1, "file %d seen %d times", i, seen[i]);
    th_rm_rf(d);
}

Test(walk, files_from_refusals)
{
    char *d = th_tmpdir("batch");
    char list[4200], in[4200];
    snprintf(in, sizeof in, "%s/in", d);
    snprintf(list, sizeof list, "%s/list", d);
    th_put(d, "in/a.png", "x");
    FILE *f = fopen(list, "wb");
    fwrite("a.png\0../x.png\0/abs.png\0b/../a.png\0\0c.png\0", 1, 43, f);
    fclose(f);
    batch_list l = {0};
    cr_assert_eq(batch_read_list(list, in, 1, &l), 0);
    cr_assert_eq(batch_finish_list(&l, in, BF_SAME), 0);
    cr_assert_eq(l.count, 4, "%zu", l.count); /* a.png twice is one */
    int refused = 0;
    for (size_t i = 0; i < l.count; i++) refused += l.items[i].refused != NULL;
    cr_assert_eq(refused, 2);
    batch_list_free(&l);
    th_rm_rf(d);
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void json_is(const char *in, const char *want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_json_string(f, in);
    fclose(f);
    cr_assert_str_eq(buf, want);
    free(buf);
}

Test(json, escaping)
{
    json_is("plain/a.png", "\"plain/a.png\"");
    json_is("q\"b\\s", "\"q\\\"b\\\\s\"");
    json_is("t\tn\nr\r\x01\x1f", "\"t\\tn\\nr\\r\\u0001\\u001f\"");
    json_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    json_is("bad\xff", "\"bad\\ufffd\"");
    json_is("\xc0\xaf", "\"\\ufffd\\ufffd\"");             /* overlong */
    json_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");   /* a surrogate */
    json_is("\xe2\x82", "\"\\ufffd\\ufffd\"");              /* truncated */
    json_is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
}
