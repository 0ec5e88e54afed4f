/* The readings array of an edge's usual upload request, decoded in C with no Python object per reading.

   readings(body, stamp_of) finds variables.batch.readings in a JSON request body and decodes it when every
   reading has the plain shape an edge sends: an object of meter_external_id, data_point, timestamp (strings in
   valid UTF-8 without escapes or control characters; names 1-100 characters), value (a JSON number, finite as a double), unit
   (null or such a string of at most 40 characters) and quality (0, 1 or 2), each at most once and no other
   key. stamp_of(text) gives a timestamp's microseconds since 1970 UTC, or None to refuse it; it is called
   once per distinct timestamp. Anything else (another shape, an escape, invalid UTF-8, a refused
   timestamp, a repeated key, malformed JSON) returns None and api/ingest/decode.py's msgspec path decides,
   as it did for every upload before: this only takes what that path takes, and gives the same readings
   (tests/api/ingest/test_native_readings.py).

   The answer is (start, end, keys, key_units, units, records): the array's byte range in body (the rest of
   the request, with `[]` in its place, is decoded by msgspec); the distinct (meter, point) keys in the
   order they first appear, the unit index of each key's first reading, the distinct units; and one
   32-byte record per reading in upload order, as db/central/ingest/parse.py ColumnReadings reads them:
   int64 microseconds since 1970, double value, int32 key index, int32 unit index (-1: null), int32
   quality, 4 bytes of padding, all in native byte order. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 100
#define MAX_UNIT 40
#define MAX_NUMBER 64 /* characters of a value's number; longer ones go to msgspec */
#define MAX_DEPTH 64  /* nesting skipped outside the readings; deeper goes to msgspec */

typedef struct {
    int64_t us;
    double value;
    int32_t key, unit, quality, pad;
} Record;

typedef struct {
    const char *s;
    Py_ssize_t n;
} Text; /* a span of the body */

typedef struct {
    Text a, b;
    int64_t value;
} Entry;

/* An open-addressing table from one or two spans of the body to a number. */
typedef struct {
    Entry *entries;
    size_t mask, len;
} Table;


static int same(Text x, Text y)
{
    return x.n == y.n && memcmp(x.s, y.s, (size_t)x.n) == 0;
}

static Entry *find(Table *t, Text a, Text b, int *found)
{
    /* Python's keyed hash of bytes (SipHash): names and times come from the caller, who must not be able
       to make them collide into a quadratic decode */
    const uint64_t h = (uint64_t)_Py_HashBytes(a.s, a.n) * 1000003u ^ (uint64_t)_Py_HashBytes(b.s, b.n);
    size_t i = (size_t)(h ^ h >> 29) & t->mask;
    while (t->entries[i].a.s != NULL) {
        if (same(t->entries[i].a, a) && same(t->entries[i].b, b)) {
            *found = 1;
            return &t->entries[i];
        }
        i = (i + 1) & t->mask;
    }
    *found = 0;
    return &t->entries[i];
}

/* The entry for (a, b), to be filled when *found is 0; NULL when out of memory. */
static Entry *lookup(Table *t, Text a, Text b, int *found)
{
    Entry *e = find(t, a, b, found);
    if (*found)
        return e;
    if (2 * (t->len + 1) > t->mask) {
        size_t mask = 2 * t->mask + 1;
        Entry *entries = calloc(mask + 1, sizeof(Entry)), *old = t->entries;
        if (entries == NULL)
            return NULL;
        size_t old_mask = t->mask;
        t->entries = entries;
        t->mask = mask;
        for (size_t j = 0; j <= old_mask; j++) {
            if (old[j].a.s != NULL) {
                int f;
                *find(t, old[j].a, old[j].b, &f) = old[j];
            }
        }
        free(old);
        e = find(t, a, b, found);
    }
    t->len++;
    e->a = a;
    e->b = b;
    return e;
}

typedef struct {
    const char *p, *end;
} Cursor;

static void ws(Cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int next_is(Cursor *c, char ch)
{
    ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* The length of the UTF-8 sequence at p (before end) that encodes one code point, by RFC 3629 (no overlong
   forms, no surrogates, nothing past U+10FFFF); 0 when the bytes there are not one. */
static int utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    const unsigned char b = p[0];
    int n;
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (b >= 0xC2 && b <= 0xDF)
        n = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        lo = b == 0xE0 ? 0xA0 : 0x80;
        hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        lo = b == 0xF0 ? 0x90 : 0x80;
        hi = b == 0xF4 ? 0x8F : 0xBF;
    } else
        return 0;
    if (end - p < n || p[1] < lo || p[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/* A string without escapes or control characters, in valid UTF-8 (the cursor after its opening quote), and
   its length in code points (what msgspec's and Python's length limits count); 0 otherwise. */
static int plain_string(Cursor *c, Text *out, Py_ssize_t *chars)
{
    const char *start = c->p;
    Py_ssize_t count = 0;
    while (c->p < c->end) {
        const unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            out->s = start;
            out->n = c->p - start;
            *chars = count;
            c->p++;
            return 1;
        }
        if (ch < 0x20 || ch == '\\')
            return 0;
        if (ch < 0x80) {
            c->p++;
        } else {
            const int n = utf8_sequence((const unsigned char *)c->p, (const unsigned char *)c->end);
            if (n == 0)
                return 0;
            c->p += n;
        }
        count++;
    }
    return 0;
}

/* Past any JSON string (the cursor after its opening quote), escapes included; 0 when unterminated. */
static int skip_string(Cursor *c)
{
    while (c->p < c->end) {
        const char ch = *c->p++;
        if (ch == '"')
            return 1;
        if (ch == '\\') {
            if (c->p == c->end)
                return 0;
            c->p++;
        }
    }
    return 0;
}

/* Past one JSON value of any kind; msgspec checks it later, so this only has to find where it ends. */
static int skip_value(Cursor *c, int depth)
{
    ws(c);
    if (c->p == c->end || depth > MAX_DEPTH)
        return 0;
    const char open = *c->p;
    if (open == '"') {
        c->p++;
        return skip_string(c);
    }
    if (open == '{' || open == '[') {
        const char close = open == '{' ? '}' : ']';
        c->p++;
        if (next_is(c, close))
            return 1;
        do {
            if (open == '{') {
                if (!next_is(c, '"') || !skip_string(c) || !next_is(c, ':'))
                    return 0;
            }
            if (!skip_value(c, depth + 1))
                return 0;
        } while (next_is(c, ','));
        return next_is(c, close);
    }
    const char *start = c->p; /* a number or a literal */
    while (c->p < c->end && *c->p != '\0' &&
           (strchr("+-.E", *c->p) != NULL || (*c->p >= '0' && *c->p <= '9') || (*c->p >= 'a' && *c->p <= 'z')))
        c->p++;
    return c->p > start;
}

/* A number of at most 15 digits and a decimal exponent within ±22, as the double nearest to it: digits and
   power of ten are both exact doubles, so one IEEE multiplication or division rounds correctly (Clinger's
   fast path); 0 for any other number (the caller parses it). */
static int fast_decimal(const char *s, const char *end, int integer, double *out)
{
    static const double powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const int negative = *s == '-';
    uint64_t digits = 0;
    int count = 0, scale = 0, after_point = 0;
    s += negative;
    for (; s < end && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.') {
            after_point = 1;
            continue;
        }
        digits = digits * 10 + (uint64_t)(*s - '0');
        if (digits != 0 && ++count > 15)
            return 0;
        scale -= after_point;
    }
    if (s < end) { /* an exponent */
        int sign = 1, exponent = 0;
        s++;
        if (*s == '+' || *s == '-')
            sign = *s++ == '-' ? -1 : 1;
        for (; s < end; s++) {
            exponent = exponent * 10 + (*s - '0');
            if (exponent > 400)
                return 0;
        }
        scale += sign * exponent;
    }
    if (scale < -22 || scale > 22)
        return 0;
    double value = (double)digits;
    value = scale < 0 ? value / powers[-scale] : value * powers[scale];
    *out = negative && !(integer && digits == 0) ? -value : value; /* -0 is the int 0, so 0.0 */
    return 1;
}

/* A JSON number as msgspec reads it into a float; 0 for anything else or a number it may read otherwise. */
static int number(Cursor *c, double *out)
{
    const char *start = c->p, *q = c->p;
    int integer = 1;
    if (q < c->end && *q == '-')
        q++;
    if (q == c->end || *q < '0' || *q > '9')
        return 0;
    if (*q == '0')
        q++;
    else
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
    if (q < c->end && *q == '.') {
        integer = 0;
        q++;
        const char *digits = q;
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
        if (q == digits)
            return 0;
    }
    if (q < c->end && (*q == 'e' || *q == 'E')) {
        integer = 0;
        q++;
        if (q < c->end && (*q == '+' || *q == '-'))
            q++;
        const char *digits = q;
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
        if (q == digits)
            return 0;
    }
    const Py_ssize_t n = q - start;
    if (n - (*start == '-') > (integer ? 18 : MAX_NUMBER - 1)) /* integers of up to 18 digits fit an int64 */
        return 0;
    if (fast_decimal(start, q, integer, out)) {
        c->p = q;
        return 1;
    }
    char text[MAX_NUMBER + 1];
    memcpy(text, start, (size_t)n);
    text[n] = '\0';
    if (integer) { /* an int becomes the double nearest to it, as msgspec converts it */
        *out = (double)strtoll(text, NULL, 10);
    } else {
        char *stop;
        *out = PyOS_string_to_double(text, &stop, NULL); /* correctly rounded, locale-free */
        if (*out == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        if (stop != text + n || !isfinite(*out))
            return 0;
    }
    c->p = q;
    return 1;
}

typedef struct {
    PyObject *stamp_of, *keys, *key_units, *units;
    Table stamps, key_table, unit_table;
    Record *records;
    size_t len, cap;
    Text last_stamp;
    int64_t last_us;
    int failed; /* a Python error is set */
} Decoder;

enum { METER = 1, POINT = 2, STAMP = 4, VALUE = 8, UNIT = 16, QUALITY = 32 };

static int field_of(Text key)
{
    static const struct {
        const char *name;
        int field;
    } names[] = {{"meter_external_id", METER}, {"data_point", POINT}, {"timestamp", STAMP},
                 {"value", VALUE},              {"unit", UNIT},        {"quality", QUALITY}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((size_t)key.n == strlen(names[i].name) && memcmp(key.s, names[i].name, (size_t)key.n) == 0)
            return names[i].field;
    return 0;
}

/* The microseconds of a timestamp, asked of stamp_of once per distinct text; 0 to give up. */
static int stamp(Decoder *d, Text t, int64_t *us)
{
    if (d->last_stamp.s != NULL && same(d->last_stamp, t)) { /* an edge sends each instant for all points */
        *us = d->last_us;
        return 1;
    }
    int found;
    Entry *e = lookup(&d->stamps, t, (Text){"", 0}, &found);
    if (e == NULL) {
        PyErr_NoMemory();
        d->failed = 1;
        return 0;
    }
    if (!found) {
        PyObject *text = PyUnicode_DecodeUTF8(t.s, t.n, NULL);
        PyObject *micros = text ? PyObject_CallOneArg(d->stamp_of, text) : NULL;
        Py_XDECREF(text);
        if (micros == NULL) {
            d->failed = 1;
            return 0;
        }
        if (micros == Py_None) {
            Py_DECREF(micros);
            e->value = INT64_MIN; /* refused: the whole upload goes to msgspec */
            return 0;
        }
        e->value = PyLong_AsLongLong(micros);
        Py_DECREF(micros);
        if (e->value == -1 && PyErr_Occurred()) {
            d->failed = 1;
            return 0;
        }
    }
    if (e->value == INT64_MIN)
        return 0;
    d->last_stamp = t;
    d->last_us = *us = e->value;
    return 1;
}

/* The index of a (meter, point) key, or of a unit (point.s NULL), added when new; -1 to give up. */
static int32_t index_of(Decoder *d, Text meter, Text point, int32_t unit)
{
    const int is_unit = point.s == NULL;
    Table *table = is_unit ? &d->unit_table : &d->key_table;
    int found;
    Entry *e = lookup(table, meter, is_unit ? (Text){"", 0} : point, &found);
    if (e == NULL) {
        PyErr_NoMemory();
        d->failed = 1;
        return -1;
    }
    if (found)
        return (int32_t)e->value;
    PyObject *item, *list = is_unit ? d->units : d->keys;
    if (is_unit)
        item = PyUnicode_DecodeUTF8(meter.s, meter.n, NULL);
    else
        item = Py_BuildValue("(s#s#)", meter.s, meter.n, point.s, point.n);
    if (item == NULL || PyList_Append(list, item) < 0) {
        Py_XDECREF(item);
        d->failed = 1;
        return -1;
    }
    Py_DECREF(item);
    e->value = PyList_GET_SIZE(list) - 1;
    if (!is_unit) {
        PyObject *u = PyLong_FromLong(unit);
        if (u == NULL || PyList_Append(d->key_units, u) < 0) {
            Py_XDECREF(u);
            d->failed = 1;
            return -1;
        }
        Py_DECREF(u);
    }
    return (int32_t)e->value;
}

/* One reading object (the cursor on its opening brace) appended to the records; 0 to give up. */
static int reading(Decoder *d, Cursor *c)
{
    if (!next_is(c, '{'))
        return 0;
    Text meter = {0}, point = {0}, stamp_text = {0}, unit_text = {NULL, 0};
    double value = 0;
    int seen = 0, quality = 0;
    do {
        Text key;
        Py_ssize_t chars;
        if (!next_is(c, '"') || !plain_string(c, &key, &chars) || !next_is(c, ':'))
            return 0;
        const int field = field_of(key);
        if (field == 0 || (seen & field))
            return 0; /* an unknown or repeated key: msgspec says what it means */
        seen |= field;
        ws(c);
        if (c->p == c->end)
            return 0;
        if (field == VALUE) {
            if (!number(c, &value))
                return 0;
        } else if (field == QUALITY) {
            if (*c->p < '0' || *c->p > '2')
                return 0;
            quality = *c->p++ - '0';
        } else if (field == UNIT && c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
            c->p += 4;
            unit_text.s = NULL;
        } else {
            Text text;
            if (*c->p++ != '"' || !plain_string(c, &text, &chars))
                return 0;
            const Py_ssize_t most = field == UNIT ? MAX_UNIT : field == STAMP ? PY_SSIZE_T_MAX : MAX_NAME;
            if (chars > most || (field != UNIT && chars == 0))
                return 0;
            *(field == METER ? &meter : field == POINT ? &point : field == STAMP ? &stamp_text : &unit_text) =
                text;
        }
    } while (next_is(c, ','));
    if (!next_is(c, '}') || (seen & (METER | POINT | STAMP | VALUE)) != (METER | POINT | STAMP | VALUE))
        return 0;
    Record r = {.value = value, .quality = quality, .unit = -1};
    if (!stamp(d, stamp_text, &r.us))
        return 0;
    if (unit_text.s != NULL && (r.unit = index_of(d, unit_text, (Text){NULL, 0}, 0)) < 0)
        return 0;
    if ((r.key = index_of(d, meter, point, r.unit)) < 0)
        return 0;
    if (d->len == d->cap) {
        Record *records = realloc(d->records, 2 * d->cap * sizeof(Record));
        if (records == NULL) {
            PyErr_NoMemory();
            d->failed = 1;
            return 0;
        }
        d->records = records;
        d->cap *= 2;
    }
    d->records[d->len++] = r;
    return 1;
}

static int readings_array(Decoder *d, Cursor *c)
{
    if (!next_is(c, '['))
        return 0;
    if (next_is(c, ']'))
        return 1;
    do {
        if (!reading(d, c))
            return 0;
    } while (next_is(c, ','));
    return next_is(c, ']');
}

/* Through an object (the cursor on its brace); at path depth < 3 the key named there is descended into,
   and the readings array decoded at depth 2 ("variables", "batch", "readings"). 0 to give up. */
static int walk(Decoder *d, Cursor *c, int depth, const char **start, const char **stop)
{
    static const char *path[] = {"variables", "batch", "readings"};
    if (!next_is(c, '{'))
        return 0;
    if (next_is(c, '}'))
        return 1;
    int found = 0;
    do {
        Text key;
        ws(c);
        if (c->p == c->end || *c->p++ != '"')
            return 0;
        const char *key_start = c->p;
        if (!skip_string(c))
            return 0;
        key = (Text){key_start, c->p - 1 - key_start};
        if (memchr(key.s, '\\', (size_t)key.n) != NULL)
            return 0; /* an escaped key may spell one of the path's: msgspec decides */
        if (!next_is(c, ':'))
            return 0;
        if ((size_t)key.n == strlen(path[depth]) && memcmp(key.s, path[depth], (size_t)key.n) == 0) {
            if (found++)
                return 0; /* a repeated key: msgspec keeps the last one */
            ws(c);
            if (depth == 2) {
                *start = c->p;
                if (!readings_array(d, c))
                    return 0;
                *stop = c->p;
            } else if (!walk(d, c, depth + 1, start, stop)) {
                return 0;
            }
        } else if (!skip_value(c, depth + 1)) {
            return 0;
        }
    } while (next_is(c, ','));
    return next_is(c, '}') && found;
}

static PyObject *readings(PyObject *self, PyObject *args)
{
    const char *body;
    Py_ssize_t size;
    PyObject *stamp_of;
    if (!PyArg_ParseTuple(args, "y#O", &body, &size, &stamp_of))
        return NULL;
    Decoder d = {.stamp_of = stamp_of, .cap = 1024};
    d.keys = PyList_New(0);
    d.key_units = PyList_New(0);
    d.units = PyList_New(0);
    d.records = malloc(d.cap * sizeof(Record));
    Table *tables[] = {&d.stamps, &d.key_table, &d.unit_table};
    for (int i = 0; i < 3; i++)
        *tables[i] = (Table){calloc(64, sizeof(Entry)), 63, 0};
    PyObject *result = NULL;
    if (d.keys == NULL || d.key_units == NULL || d.units == NULL)
        goto done;
    if (d.records == NULL || d.stamps.entries == NULL || d.key_table.entries == NULL ||
        d.unit_table.entries == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Cursor c = {body, body + size};
    const char *start = NULL, *stop = NULL;
    const int ok = walk(&d, &c, 0, &start, &stop);
    if (d.failed)
        goto done;
    ws(&c);
    if (!ok || c.p != c.end) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    PyObject *records = PyBytes_FromStringAndSize((const char *)d.records, (Py_ssize_t)(d.len * sizeof(Record)));
    if (records == NULL)
        goto done;
    result = Py_BuildValue("(nnOOON)", (Py_ssize_t)(start - body), (Py_ssize_t)(stop - body), d.keys,
                           d.key_units, d.units, records);
done:
    Py_XDECREF(d.keys);
    Py_XDECREF(d.key_units);
    Py_XDECREF(d.units);
    free(d.records);
    for (int i = 0; i < 3; i++)
        free(tables[i]->entries);
    return result;
}

static PyMethodDef methods[] = {
    {"readings", readings, METH_VARARGS,
     "readings(body, stamp_of) -> (start, end, keys, key_units, units, records), or None for msgspec."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_readings",
                                    "An upload's readings array decoded in C.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__readings(void)
{
    return PyModule_Create(&module);
}
