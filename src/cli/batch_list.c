/*
 * batch_list.c - which files `pixpool batch` takes and where their outputs go: the folder walk
 * (image extensions, recursion, loops, the output folder left out), --files-from lists, path
 * normalisation, output names, collisions between outputs and --shard.
 */
#define _GNU_SOURCE
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- names ------------------------------------------------------------------------------- */

/* The extension of the last component (without its dot), or NULL. A leading dot (".png") is a
   hidden name, not an extension. */
static const char *name_ext(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : NULL;
}

int batch_is_image_name(const char *name)
{
    static const char *const exts[] = {"png", "jpg", "jpeg", "bmp", "tga", "tif", "tiff",
                                       "gif", "psd", "hdr", "pnm", "ppm", "pgm"};
    const char *ext = name_ext(name);
    if (!ext) return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(ext, exts[i]) == 0) return 1;
    return 0;
}

char *batch_normalise_rel(const char *path, const char **why)
{
    if (path[0] == '/') {
        *why = "absolute paths are refused (list paths relative to INPUT_DIR)";
        return NULL;
    }
    size_t len = strlen(path);
    char *out = malloc(len + 1);
    size_t *starts = malloc((len / 2 + 2) * sizeof *starts); /* start of each kept component */
    if (!out || !starts) {
        free(out);
        free(starts);
        *why = "out of memory";
        return NULL;
    }
    size_t o = 0, depth = 0, i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/') j++;
        size_t n = j - i;
        if (n == 0 || (n == 1 && path[i] == '.')) {
            /* empty or "." */
        } else if (n == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (depth == 0) {
                free(out);
                free(starts);
                *why = "the path climbs out of INPUT_DIR ('..'), refused";
                return NULL;
            }
            o = starts[--depth];
            if (o > 0) o--; /* the '/' before the dropped component */
        } else {
            if (o > 0) out[o++] = '/';
            starts[depth++] = o;
            memcpy(out + o, path + i, n);
            o += n;
        }
        i = j + 1;
    }
    out[o] = '\0';
    free(starts);
    if (o == 0) {
        free(out);
        *why = "names INPUT_DIR itself, not a file";
        return NULL;
    }
    return out;
}

char *batch_output_name(const char *rel, int format)
{
    const char *ext = name_ext(rel);
    size_t stem = ext ? (size_t)(ext - 1 - rel) : strlen(rel);
    const char *want = NULL; /* new extension, or NULL to keep the name */
    int is_png = ext && !strcasecmp(ext, "png");
    int is_jpg = ext && (!strcasecmp(ext, "jpg") || !strcasecmp(ext, "jpeg"));
    int is_bmp = ext && !strcasecmp(ext, "bmp");
    int is_tga = ext && !strcasecmp(ext, "tga");
    int is_tif = ext && (!strcasecmp(ext, "tif") || !strcasecmp(ext, "tiff"));
    switch (format) {
    case BF_PNG: want = is_png ? NULL : "png"; break;
    case BF_JPG: want = is_jpg ? NULL : "jpg"; break;
    case BF_BMP: want = is_bmp ? NULL : "bmp"; break;
    case BF_TGA: want = is_tga ? NULL : "tga"; break;
    case BF_TIF: want = is_tif ? NULL : "tif"; break;
    case BF_PNM:
        want = ext && (!strcasecmp(ext, "pnm") || !strcasecmp(ext, "ppm") || !strcasecmp(ext, "pgm"))
                   ? NULL : "pnm";
        break;
    case BF_PSD: want = ext && !strcasecmp(ext, "psd") ? NULL : "psd"; break;
    default: want = is_png || is_jpg || is_bmp || is_tga || is_tif ? NULL : "png"; break;
    }
    if (!want) return strdup(rel);
    char *out = malloc(stem + 1 + strlen(want) + 1);
    if (!out) return NULL;
    memcpy(out, rel, stem);
    out[stem] = '.';
    strcpy(out + stem + 1, want);
    return out;
}

uint64_t batch_fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    return h;
}

/* ---- the list ---------------------------------------------------------------------------- */

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + 1 + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

static int list_add(batch_list *l, char *rel, uint64_t size, char *refused)
{
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 256;
        batch_item *n = realloc(l->items, ncap * sizeof *n);
        if (!n) {
            free(rel);
            free(refused);
            return -1;
        }
        l->items = n;
        l->cap = ncap;
    }
    batch_item *it = &l->items[l->count++];
    it->rel = rel;
    it->out_rel = NULL;
    it->size = size;
    it->refused = refused;
    return 0;
}

void batch_list_free(batch_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].rel);
        free(l->items[i].out_rel);
        free(l->items[i].refused);
    }
    free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}

/* ---- the walk ---------------------------------------------------------------------------- */

/* An open-addressing set of (device, inode) of the folders entered. */
typedef struct dirset {
    struct key {
        dev_t dev;
        ino_t ino;
        int used;
    } *slots;
    size_t cap, count;
} dirset;

static size_t dirset_hash(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15u) ^ ((uint64_t)ino * 0xbf58476d1ce4e5b9u);
    h ^= h >> 29;
    return (size_t)(h & (cap - 1));
}

/* Adds a folder; returns 1 if it was new, 0 if already there, -1 when out of memory. */
static int dirset_add(dirset *s, dev_t dev, ino_t ino)
{
    if ((s->count + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        struct key *n = calloc(ncap, sizeof *n);
        if (!n) return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].used) {
                size_t h = dirset_hash(s->slots[i].dev, s->slots[i].ino, ncap);
                while (n[h].used) h = (h + 1) & (ncap - 1);
                n[h] = s->slots[i];
            }
        free(s->slots);
        s->slots = n;
        s->cap = ncap;
    }
    size_t h = dirset_hash(dev, ino, s->cap);
    while (s->slots[h].used) {
        if (s->slots[h].dev == dev && s->slots[h].ino == ino) return 0;
        h = (h + 1) & (s->cap - 1);
    }
    s->slots[h].dev = dev;
    s->slots[h].ino = ino;
    s->slots[h].used = 1;
    s->count++;
    return 1;
}

typedef struct walker {
    int recursive, verbose;
    int skip_valid;
    dev_t skip_dev;
    ino_t skip_ino;
    dirset seen;
    batch_list *list;
} walker;

/* A file passed over for its name: counted, and named with -v. */
static void skipped_file(walker *w, const char *abs, const char *why)
{
    w->list->not_image++;
    if (w->verbose) {
        const char *dot = strrchr(abs, '.');
        const char *slash = strrchr(abs, '/');
        if (dot && (!slash || dot > slash + 1))
            fprintf(stderr, "pixpool: note: %s: skipped, %s (extension %s is not read)\n", abs,
                    why, dot);
        else
            fprintf(stderr, "pixpool: note: %s: skipped, %s (no extension)\n", abs, why);
    }
}

static void walk_dir(walker *w, const char *abs, const char *rel)
{
    DIR *d = opendir(abs);
    if (!d) {
        cli_error("%s: cannot read the folder: %s", abs, strerror(errno));
        w->list->errors++;
        return;
    }
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        char *cabs = join(abs, name);
        char *crel = rel ? join(rel, name) : strdup(name);
        if (!cabs || !crel) {
            free(cabs);
            free(crel);
            cli_error("%s: out of memory listing the folder", abs);
            w->list->errors++;
            break;
        }
        struct stat st;
        if (lstat(cabs, &st) != 0) {
            cli_error("%s: %s", cabs, strerror(errno));
            w->list->errors++;
        } else if (S_ISDIR(st.st_mode)) {
            if (!w->recursive) {
                w->list->not_entered++;
                if (w->verbose)
                    fprintf(stderr, "pixpool: note: %s: skipped, a sub-folder (-r descends)\n",
                            cabs);
            } else if (w->skip_valid && st.st_dev == w->skip_dev && st.st_ino == w->skip_ino) {
                if (w->verbose)
                    fprintf(stderr, "pixpool: note: %s: the output folder, not descending\n", cabs);
            } else {
                int r = dirset_add(&w->seen, st.st_dev, st.st_ino);
                if (r < 0) {
                    cli_error("%s: out of memory", cabs);
                    w->list->errors++;
                } else if (r == 0) {
                    if (w->verbose)
                        fprintf(stderr, "pixpool: note: %s: folder already visited (a loop)\n",
                                cabs);
                } else {
                    walk_dir(w, cabs, crel);
                }
            }
        } else if (S_ISLNK(st.st_mode)) {
            struct stat t;
            if (stat(cabs, &t) == 0 && S_ISDIR(t.st_mode)) {
                if (w->verbose && w->recursive)
                    fprintf(stderr, "pixpool: note: %s: symbolic link to a folder, not followed\n",
                            cabs);
            } else if (batch_is_image_name(name)) {
                /* a link to a file (or a dangling one, which then fails with its reason) */
                uint64_t size = stat(cabs, &t) == 0 ? (uint64_t)t.st_size : 0;
                if (list_add(w->list, crel, size, NULL) == 0) crel = NULL;
            } else {
                skipped_file(w, cabs, "not an image name");
            }
        } else if (S_ISREG(st.st_mode) && batch_is_image_name(name)) {
            if (list_add(w->list, crel, (uint64_t)st.st_size, NULL) == 0) crel = NULL;
        } else if (S_ISREG(st.st_mode)) {
            skipped_file(w, cabs, "not an image name");
        } else {
            w->list->not_regular++;
            if (w->verbose)
                fprintf(stderr, "pixpool: note: %s: skipped, not a regular file\n", cabs);
        }
        free(cabs);
        free(crel);
        errno = 0;
    }
    if (errno) {
        cli_error("%s: error reading the folder: %s", abs, strerror(errno));
        w->list->errors++;
    }
    closedir(d);
}

int batch_walk(const char *in_dir, int recursive, int skip_valid, dev_t skip_dev, ino_t skip_ino,
               int verbose, batch_list *list)
{
    walker w = {recursive, verbose, skip_valid, skip_dev, skip_ino, {0}, list};
    struct stat st;
    if (stat(in_dir, &st) != 0) {
        cli_error("%s: %s", in_dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        cli_error("%s: not a folder", in_dir);
        return -1;
    }
    dirset_add(&w.seen, st.st_dev, st.st_ino);
    DIR *probe = opendir(in_dir);
    if (!probe) {
        cli_error("%s: cannot read the folder: %s", in_dir, strerror(errno));
        free(w.seen.slots);
        return -1;
    }
    closedir(probe);
    walk_dir(&w, in_dir, NULL);
    free(w.seen.slots);
    return 0;
}

/* ---- --files-from ------------------------------------------------------------------------ */

int batch_read_list(const char *file, const char *in_dir, int null_sep, batch_list *list)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!f) {
        cli_error("%s: %s", file, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *n = realloc(buf, ncap + 1);
            if (!n) {
                cli_error("%s: out of memory reading the list", file);
                free(buf);
                if (f != stdin) fclose(f);
                return -1;
            }
            buf = n;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    if (f != stdin) fclose(f);
    if (err) {
        cli_error("%s: error reading the list", file);
        free(buf);
        return -1;
    }
    char sep = null_sep ? '\0' : '\n';
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && buf[j] != sep) j++;
        buf[j] = '\0'; /* buf has one spare byte at the end */
        const char *entry = buf + i;
        i = j + 1;
        if (!*entry) continue;
        if (strlen(entry) != j - (size_t)(entry - buf)) {
            /* a NUL inside a newline-separated entry: no file has such a name */
            char *why = NULL;
            if (asprintf(&why, "%s: contains a NUL byte (use -0 for NUL-separated lists)",
                         entry) < 0)
                why = NULL;
            list_add(list, strdup(entry), 0, why ? why : strdup("invalid list entry"));
            continue;
        }
        const char *reason = NULL;
        char *rel = batch_normalise_rel(entry, &reason);
        if (!rel) {
            char *why = NULL;
            if (asprintf(&why, "%s: %s", entry, reason) < 0) why = NULL;
            if (list_add(list, strdup(entry), 0, why ? why : strdup(reason)) != 0) {
                cli_error("out of memory");
                free(buf);
                return -1;
            }
            continue;
        }
        uint64_t size = 0;
        char *abs = join(in_dir, rel);
        struct stat st;
        if (abs && stat(abs, &st) == 0) size = (uint64_t)st.st_size;
        free(abs);
        if (list_add(list, rel, size, NULL) != 0) {
            cli_error("out of memory");
            free(buf);
            return -1;
        }
    }
    free(buf);
    return 0;
}

/* ---- ordering, outputs, shards ----------------------------------------------------------- */

static int cmp_rel(const void *a, const void *b)
{
    return strcmp(((const batch_item *)a)->rel, ((const batch_item *)b)->rel);
}

static const batch_item *g_sort_items; /* qsort has no context argument */

static int cmp_out(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(g_sort_items[i].out_rel, g_sort_items[j].out_rel);
    return c ? c : (i < j ? -1 : i > j);
}

int batch_finish_list(batch_list *l, const char *in_dir, int format)
{
    if (l->count == 0) return 0;
    qsort(l->items, l->count, sizeof *l->items, cmp_rel);
    size_t o = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (o > 0 && strcmp(l->items[o - 1].rel, l->items[i].rel) == 0) {
            free(l->items[i].rel);
            free(l->items[i].refused);
            continue;
        }
        l->items[o++] = l->items[i];
    }
    l->count = o;
    size_t *idx = malloc(l->count * sizeof *idx);
    if (!idx) return -1;
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++) {
        batch_item *it = &l->items[i];
        if (it->refused) continue;
        it->out_rel = batch_output_name(it->rel, format);
        if (!it->out_rel) {
            free(idx);
            return -1;
        }
        idx[n++] = i;
    }
    g_sort_items = l->items;
    qsort(idx, n, sizeof *idx, cmp_out);
    for (size_t k = 1; k < n; k++) {
        batch_item *first = &l->items[idx[k - 1]], *it = &l->items[idx[k]];
        if (strcmp(first->out_rel, it->out_rel) != 0) continue;
        /* every later item of a group is refused; the first of the group keeps the name */
        size_t g = k - 1;
        while (g > 0 && strcmp(l->items[idx[g - 1]].out_rel, it->out_rel) == 0) g--;
        first = &l->items[idx[g]];
        char *why = NULL;
        if (asprintf(&why, "%s/%s: its output %s is also the output of %s/%s; not written twice",
                     in_dir, it->rel, it->out_rel, in_dir, first->rel) < 0)
            why = NULL;
        it->refused = why ? why : strdup("two inputs have the same output");
    }
    free(idx);
    return 0;
}

void batch_shard(batch_list *l, int k, int n)
{
    if (n <= 1) return;
    size_t o = 0;
    for (size_t i = 0; i < l->count; i++) {
        batch_item *it = &l->items[i];
        if (batch_fnv1a64(it->rel) % (uint64_t)n == (uint64_t)(k - 1)) {
            l->items[o++] = *it;
        } else {
            free(it->rel);
            free(it->out_rel);
            free(it->refused);
        }
    }
    l->count = o;
}
