/*
 * report_json.c - a small, strict reader of one JSON object per line (RFC 8259 syntax) for
 * `pixpool report`. Strings are unescaped to UTF-8, numbers read with strtod, nested objects
 * and arrays checked for syntax and skipped.
 */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const char *p, *end;
    const char *why;
} rd;

static void ws(rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n'))
        r->p++;
}

static int fail(rd *r, const char *why)
{
    if (!r->why) r->why = why;
    return -1;
}

/* Appends the UTF-8 encoding of code point c to buf (room for 4 bytes assured by caller). */
static size_t put_utf8(char *buf, unsigned c)
{
    if (c < 0x80) {
        buf[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        buf[0] = (char)(0xc0 | (c >> 6));
        buf[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        buf[0] = (char)(0xe0 | (c >> 12));
        buf[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        buf[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    buf[0] = (char)(0xf0 | (c >> 18));
    buf[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    buf[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    buf[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

static int hex4(rd *r, unsigned *out)
{
    if (r->end - r->p < 4) return fail(r, "a \\u escape is cut short");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = r->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail(r, "a \\u escape has a character that is not hexadecimal");
    }
    r->p += 4;
    *out = v;
    return 0;
}

/* Reads a string (r->p at the opening quote). With out, stores a malloc()ed copy. */
static int string(rd *r, char **out)
{
    r->p++; /* the quote */
    /* the unescaped text is never longer than the escaped one plus 1 (\uXXXX: 6 -> <= 3;
       a pair: 12 -> 4) */
    const char *q = r->p;
    while (q < r->end && *q != '"') q += *q == '\\' && q + 1 < r->end ? 2 : 1;
    if (q >= r->end) return fail(r, "a string is not closed");
    char *buf = NULL;
    size_t n = 0;
    if (out && !(buf = malloc((size_t)(q - r->p) + 1))) return fail(r, "out of memory");
    while (*r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        char tmp[4];
        size_t k = 0;
        if (c < 0x20) {
            free(buf);
            return fail(r, "a control character inside a string");
        }
        if (c != '\\') {
            tmp[0] = (char)c;
            k = 1;
            r->p++;
        } else {
            char e = r->p[1];
            r->p += 2;
            switch (e) {
            case '"': tmp[0] = '"'; k = 1; break;
            case '\\': tmp[0] = '\\'; k = 1; break;
            case '/': tmp[0] = '/'; k = 1; break;
            case 'b': tmp[0] = '\b'; k = 1; break;
            case 'f': tmp[0] = '\f'; k = 1; break;
            case 'n': tmp[0] = '\n'; k = 1; break;
            case 'r': tmp[0] = '\r'; k = 1; break;
            case 't': tmp[0] = '\t'; k = 1; break;
            case 'u': {
                unsigned u;
                if (hex4(r, &u)) {
                    free(buf);
                    return -1;
                }
                if (u >= 0xd800 && u <= 0xdbff && r->end - r->p >= 6 && r->p[0] == '\\' &&
                    r->p[1] == 'u') {
                    rd save = *r;
                    unsigned lo;
                    r->p += 2;
                    if (hex4(r, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                    } else {
                        *r = save;
                        u = 0xfffd;
                    }
                } else if (u >= 0xd800 && u <= 0xdfff) {
                    u = 0xfffd; /* a lone surrogate */
                }
                if (u == 0) u = 0xfffd; /* C strings end at NUL; no file name holds one */
                k = put_utf8(tmp, u);
                break;
            }
            default:
                free(buf);
                return fail(r, "an unknown escape inside a string");
            }
        }
        if (buf) memcpy(buf + n, tmp, k);
        n += k;
    }
    r->p++; /* the closing quote */
    if (buf) {
        buf[n] = '\0';
        *out = buf;
    }
    return 0;
}

static int number(rd *r, double *out)
{
    const char *s = r->p;
    /* the JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *q = s;
    if (q < r->end && *q == '-') q++;
    if (q < r->end && *q == '0') q++;
    else if (q < r->end && *q >= '1' && *q <= '9')
        while (q < r->end && *q >= '0' && *q <= '9') q++;
    else
        return fail(r, "a value that is not JSON");
    if (q < r->end && *q == '.') {
        q++;
        if (q >= r->end || *q < '0' || *q > '9') return fail(r, "a number with no digit after '.'");
        while (q < r->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < r->end && (*q == '+' || *q == '-')) q++;
        if (q >= r->end || *q < '0' || *q > '9') return fail(r, "a number with an empty exponent");
        while (q < r->end && *q >= '0' && *q <= '9') q++;
    }
    char tmp[64];
    size_t len = (size_t)(q - s);
    if (len >= sizeof tmp) return fail(r, "a number too long");
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    *out = strtod(tmp, NULL);
    r->p = q;
    return 0;
}

static int word(rd *r, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return fail(r, "a value that is not JSON");
    r->p += n;
    return 0;
}

/* Any value, checked and skipped (depth-limited). */
static int skip_value(rd *r, int depth)
{
    if (depth > 64) return fail(r, "values nested too deeply");
    ws(r);
    if (r->p >= r->end) return fail(r, "a value is missing");
    double d;
    switch (*r->p) {
    case '"': return string(r, NULL);
    case 't': return word(r, "true");
    case 'f': return word(r, "false");
    case 'n': return word(r, "null");
    case '[':
    case '{': {
        char close = *r->p == '[' ? ']' : '}';
        int obj = close == '}';
        r->p++;
        ws(r);
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return 0;
        }
        for (;;) {
            if (obj) {
                ws(r);
                if (r->p >= r->end || *r->p != '"') return fail(r, "a key is not a string");
                if (string(r, NULL)) return -1;
                ws(r);
                if (r->p >= r->end || *r->p != ':') return fail(r, "a ':' is missing after a key");
                r->p++;
            }
            if (skip_value(r, depth + 1)) return -1;
            ws(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == close) {
                r->p++;
                return 0;
            }
            return fail(r, "a ',' or a closing bracket is missing");
        }
    }
    default: return number(r, &d);
    }
}

static int add(report_obj *o, report_field fld)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 16;
        report_field *nf = realloc(o->f, nc * sizeof *nf);
        if (!nf) return -1;
        o->f = nf;
        o->cap = nc;
    }
    o->f[o->n++] = fld;
    return 0;
}

int report_parse_line(const char *line, size_t len, report_obj *obj, const char **why)
{
    rd r = {line, line + len, NULL};
    ws(&r);
    if (r.p >= r.end || *r.p != '{') {
        *why = "not a JSON object";
        return -1;
    }
    r.p++;
    ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
    } else {
        for (;;) {
            ws(&r);
            report_field fld = {0};
            if (r.p >= r.end || *r.p != '"') {
                fail(&r, "a key is not a string");
                break;
            }
            if (string(&r, &fld.key)) break;
            ws(&r);
            if (r.p >= r.end || *r.p != ':') {
                free(fld.key);
                fail(&r, "a ':' is missing after a key");
                break;
            }
            r.p++;
            ws(&r);
            int rc = 0;
            if (r.p < r.end && *r.p == '"') {
                fld.type = RJ_STRING;
                rc = string(&r, &fld.str);
            } else if (r.p < r.end && (*r.p == 't' || *r.p == 'f')) {
                fld.type = RJ_BOOL;
                fld.num = *r.p == 't';
                rc = word(&r, *r.p == 't' ? "true" : "false");
            } else if (r.p < r.end && *r.p == 'n') {
                fld.type = RJ_NULL;
                rc = word(&r, "null");
            } else if (r.p < r.end && (*r.p == '{' || *r.p == '[')) {
                fld.type = RJ_OTHER;
                rc = skip_value(&r, 1);
            } else {
                fld.type = RJ_NUMBER;
                rc = number(&r, &fld.num);
            }
            if (rc || add(obj, fld)) {
                free(fld.key);
                free(fld.str);
                fail(&r, "out of memory");
                break;
            }
            ws(&r);
            if (r.p < r.end && *r.p == ',') {
                r.p++;
                continue;
            }
            if (r.p < r.end && *r.p == '}') {
                r.p++;
                break;
            }
            fail(&r, "a ',' or '}' is missing");
            break;
        }
    }
    if (!r.why) {
        ws(&r);
        if (r.p != r.end) fail(&r, "more text after the object");
    }
    if (r.why) {
        *why = r.why;
        return -1;
    }
    return 0;
}

void report_obj_clear(report_obj *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->f[i].key);
        free(o->f[i].str);
    }
    free(o->f);
    o->f = NULL;
    o->n = o->cap = 0;
}

const report_field *report_get(const report_obj *o, const char *key)
{
    for (size_t i = o->n; i-- > 0;)
        if (!strcmp(o->f[i].key, key)) return &o->f[i];
    return NULL;
}

const char *report_str(const report_obj *o, const char *key)
{
    const report_field *f = report_get(o, key);
    return f && f->type == RJ_STRING ? f->str : NULL;
}

int report_num(const report_obj *o, const char *key, double *out)
{
    const report_field *f = report_get(o, key);
    if (!f || f->type != RJ_NUMBER) return 0;
    *out = f->num;
    return 1;
}
