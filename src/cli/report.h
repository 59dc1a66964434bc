/*
 * report.h - reading the JSON lines of `pixpool batch --report` files for `pixpool report`
 * (src/cli/cmd_report.c): one flat JSON object per line; nested values are skipped.
 */
#ifndef PP_CLI_REPORT_H
#define PP_CLI_REPORT_H

#include <stddef.h>

enum { RJ_NULL = 0, RJ_STRING, RJ_NUMBER, RJ_BOOL, RJ_OTHER /* an object or array, skipped */ };

typedef struct report_field {
    char *key;   /* UTF-8, malloc()ed */
    int type;    /* RJ_* */
    char *str;   /* RJ_STRING: the unescaped UTF-8 text (\u0000 becomes U+FFFD), malloc()ed */
    double num;  /* RJ_NUMBER; RJ_BOOL: 0 or 1 */
} report_field;

typedef struct report_obj {
    report_field *f;
    size_t n, cap;
} report_obj;

/* Parses one line holding one JSON object (surrounding white space allowed) into *obj (which
   must be empty). Returns 0, or -1 with *why set to a static description of the first error
   (the fields parsed so far are kept in *obj; free them with report_obj_clear). */
int report_parse_line(const char *line, size_t len, report_obj *obj, const char **why);
void report_obj_clear(report_obj *obj);

/* The field named key (the last one when repeated), or NULL. */
const report_field *report_get(const report_obj *obj, const char *key);
/* The string of field key, or NULL when absent or not a string. */
const char *report_str(const report_obj *obj, const char *key);
/* The number of field key into *out: 1 when it is a number, 0 otherwise (*out untouched). */
int report_num(const report_obj *obj, const char *key, double *out);

#endif
