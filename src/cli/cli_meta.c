/*
 * cli_meta.c - the metadata options shared by `apply` and `batch`: --strip[=KINDS] and
 * --auto-orient.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cli_parse_strip(const char *s, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned kinds;
    } names[] = {{"exif", PP_META_EXIF}, {"xmp", PP_META_XMP}, {"icc", PP_META_ICC},
                 {"density", PP_META_DENSITY}, {"other", PP_META_OTHER}, {"all", PP_META_ALL}};
    if (!s) { /* a bare --strip */
        *out = PP_META_ALL;
        return 0;
    }
    unsigned kinds = 0;
    const char *p = s;
    for (;;) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        while (i < sizeof names / sizeof names[0] &&
               !(strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0))
            i++;
        if (i == sizeof names / sizeof names[0]) {
            cli_error("--strip: '%.*s' is not one of exif, xmp, icc, density, other, all "
                      "(a comma-separated list)", (int)n, p);
            return -1;
        }
        kinds |= names[i].kinds;
        if (!p[n]) break;
        p += n + 1;
    }
    *out = kinds;
    return 0;
}
