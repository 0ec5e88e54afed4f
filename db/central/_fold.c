/* The fold's two per-reading loops in C, over a window's rows in PostgreSQL's binary forms.

   quarters() is db/central/energy_fold.py fold_quarters and rollup_fold() is db/central/rollups/stream.py
   _fold: the same float operations in the same order (built with -ffp-contract=off, so no fused
   multiply-add), hence the same figures bit for bit; tests/db/central/test_native_fold.py holds them equal.
   The Python forms stay the reference and the fallback where this module is not built. A window is three
   bytes objects: timestamptz_send (big-endian int64 microseconds since 2000), float8send and int2send of
   its rows, concatenated in time order (energy_summary.FOLD_ROWS_SQL). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define Q_US 900000000LL
#define H_US 3600000000LL
#define Q_SECONDS 900.0
#define PG_EPOCH_US 946684800000000LL
#define BAD_QUALITY 2

typedef struct {
    Py_buffer ts, vs, qs;
    Py_ssize_t n;
} Window;

static uint64_t load_be64(const unsigned char *p)
{
    return ((uint64_t)p[0] << 56) | ((uint64_t)p[1] << 48) | ((uint64_t)p[2] << 40) | ((uint64_t)p[3] << 32) |
           ((uint64_t)p[4] << 24) | ((uint64_t)p[5] << 16) | ((uint64_t)p[6] << 8) | (uint64_t)p[7];
}

static inline int64_t w_us(const Window *w, Py_ssize_t i)
{
    return (int64_t)load_be64((const unsigned char *)w->ts.buf + 8 * i) + PG_EPOCH_US;
}

static inline double w_value(const Window *w, Py_ssize_t i)
{
    uint64_t bits = load_be64((const unsigned char *)w->vs.buf + 8 * i);
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline int w_quality(const Window *w, Py_ssize_t i)
{
    const unsigned char *p = (const unsigned char *)w->qs.buf + 2 * i;
    return (int16_t)(((unsigned)p[0] << 8) | p[1]);
}

static int window_open(Window *w, PyObject *ts, PyObject *vs, PyObject *qs)
{
    memset(w, 0, sizeof *w);
    if (PyObject_GetBuffer(ts, &w->ts, PyBUF_SIMPLE) < 0)
        return -1;
    if (PyObject_GetBuffer(vs, &w->vs, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&w->ts);
        return -1;
    }
    if (PyObject_GetBuffer(qs, &w->qs, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&w->ts);
        PyBuffer_Release(&w->vs);
        return -1;
    }
    w->n = w->ts.len / 8;
    if (w->ts.len % 8 || w->vs.len != 8 * w->n || w->qs.len != 2 * w->n) {
        PyBuffer_Release(&w->ts);
        PyBuffer_Release(&w->vs);
        PyBuffer_Release(&w->qs);
        PyErr_SetString(PyExc_ValueError, "a window needs 8, 8 and 2 bytes per row");
        return -1;
    }
    return 0;
}

static void window_close(Window *w)
{
    PyBuffer_Release(&w->ts);
    PyBuffer_Release(&w->vs);
    PyBuffer_Release(&w->qs);
}

static inline int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Python's max(v, 0.0): the first argument unless the second is greater. */
static inline double max_zero(double v) { return 0.0 > v ? 0.0 : v; }

/* A reading's value into a part's first value and extremes; 1 when it is the part's first. A strict
   comparison keeps the first of equals, as Python's min() and max() do. */
static inline int take_value(char *has, double *first, double *vmin, double *vmax, double v)
{
    if (!*has) {
        *first = *vmin = *vmax = v;
        *has = 1;
        return 1;
    }
    if (v < *vmin)
        *vmin = v;
    else if (v > *vmax)
        *vmax = v;
    return 0;
}

/* db.energy.step's consumption from prev to v (sql.register_delta): a rise, a rollover of the register, a
   reset to a small value, or nothing; *wrapped says whether the register wrapped or was reset. */
static inline double step(double prev, double v, int has_rollover, double rollover, double reset_fraction,
                          int *wrapped)
{
    *wrapped = 1;
    if (v >= prev) {
        *wrapped = 0;
        return v - prev;
    }
    if (has_rollover && 0 <= rollover - prev + v && rollover - prev + v <= rollover / 2)
        return rollover - prev + v;
    if (v < prev * reset_fraction)
        return max_zero(v);
    *wrapped = 0;
    return 0.0;
}

static int optional_double(PyObject *obj, int *present, double *value)
{
    *present = obj != Py_None;
    *value = 0.0;
    if (*present) {
        *value = PyFloat_AsDouble(obj);
        if (*value == -1.0 && PyErr_Occurred())
            return -1;
    }
    return 0;
}

static PyObject *float_or_none(int present, double value)
{
    if (present)
        return PyFloat_FromDouble(value);
    Py_RETURN_NONE;
}

static PyObject *ordered(PyObject *self, PyObject *arg)
{
    Py_buffer ts;
    if (PyObject_GetBuffer(arg, &ts, PyBUF_SIMPLE) < 0)
        return NULL;
    Py_ssize_t n = ts.len / 8;
    int ok = 1;
    for (Py_ssize_t i = 1; i < n && ok; i++) {
        int64_t a = (int64_t)load_be64((const unsigned char *)ts.buf + 8 * (i - 1));
        int64_t b = (int64_t)load_be64((const unsigned char *)ts.buf + 8 * i);
        ok = a < b;
    }
    PyBuffer_Release(&ts);
    return PyBool_FromLong(ok);
}

/* ---- energy_fold.fold_quarters ---- */

typedef struct {
    long count, flagged, usable;
    double vsum, vmin, vmax, first, last, consumption, span, longest;
    char present, has_value, has_consumption;
} Quarter;

static PyObject *quarter_row(const Quarter *p)
{
    return Py_BuildValue(
        "[lllNNNNNNNN]", p->count, p->flagged, p->usable, PyFloat_FromDouble(p->vsum),
        float_or_none(p->has_value, p->vmin), float_or_none(p->has_value, p->vmax),
        float_or_none(p->has_value, p->first), float_or_none(p->has_value, p->last),
        float_or_none(p->has_consumption, p->consumption), PyFloat_FromDouble(p->span),
        PyFloat_FromDouble(p->longest));
}

static inline void add_consumption(Quarter *p, double amount)
{
    /* Python: (c or 0.0) + amount, c None when no amount was added yet */
    double c = p->has_consumption && p->consumption != 0.0 ? p->consumption : 0.0;
    p->consumption = c + amount;
    p->has_consumption = 1;
}

/* Part of an interval between two usable readings inside a quarter: its seconds there, the interval's
   length, and the share of the interval's consumption (cumulative points). */
static inline void add_interval(Quarter *p, double seconds, double length, int cumulative, double amount)
{
    p->present = 1;
    p->span += seconds;
    if (length > p->longest)
        p->longest = length;
    if (cumulative)
        add_consumption(p, amount);
}

/* A window's quarters: parts[j] is quarter k_lo + j (present when it holds a reading or an interval). */
typedef struct {
    Quarter *parts;
    int64_t k_lo;
    Py_ssize_t nq;
    int cumulative, have_first;
    double first_x, last_x;
} Folded;

static int fold_window(Folded *out, PyObject *ts, PyObject *vs, PyObject *qs, long long lo_us, long long hi_us,
                       int cumulative, PyObject *rollover_obj, double reset_fraction)
{
    int has_rollover;
    double rollover;
    if (optional_double(rollover_obj, &has_rollover, &rollover) < 0)
        return -1;
    if (lo_us % Q_US != 0 || hi_us % Q_US != 0) { /* a reading in a partial last quarter has no part */
        PyErr_SetString(PyExc_ValueError, "lo_us and hi_us must be quarter-hour bounds");
        return -1;
    }
    Window w;
    if (window_open(&w, ts, vs, qs) < 0)
        return -1;
    const int64_t k_lo = floor_div(lo_us, Q_US), k_last = floor_div(hi_us, Q_US) - 1;
    const Py_ssize_t nq = k_last >= k_lo ? (Py_ssize_t)(k_last - k_lo + 1) : 0;
    Quarter *parts = calloc(nq ? nq : 1, sizeof(Quarter));
    if (parts == NULL) {
        window_close(&w);
        PyErr_NoMemory();
        return -1;
    }
    const double lo_s = (double)lo_us / 1000000.0, hi_s = (double)hi_us / 1000000.0;
    int have_first = 0, have_prev = 0;
    double first_x = 0.0, last_x = 0.0, prev_x = 0.0, prev_v = 0.0;
    int64_t prev_us = 0;
    for (Py_ssize_t i = 0; i < w.n; i++) {
        const int64_t us = w_us(&w, i);
        const double value = w_value(&w, i);
        const int quality = w_quality(&w, i);
        const int usable = quality < BAD_QUALITY;
        if (lo_us <= us && us < hi_us) {
            Quarter *p = &parts[floor_div(us, Q_US) - k_lo];
            p->present = 1;
            p->count++;
            if (quality > 0)
                p->flagged++;
            if (usable) {
                p->usable++;
                p->vsum += value;
                take_value(&p->has_value, &p->first, &p->vmin, &p->vmax, value);
                p->last = value;
            }
        }
        if (!usable)
            continue;
        const double x = (double)us / 1000000.0;
        if (!have_first) {
            first_x = x;
            have_first = 1;
        }
        last_x = x;
        if (have_prev && !(x <= lo_s || prev_x >= hi_s)) {
            const double length = x - prev_x;
            int wrapped;
            const double delta =
                cumulative ? step(prev_v, value, has_rollover, rollover, reset_fraction, &wrapped) : 0.0;
            const int64_t k = floor_div(us - 1, Q_US);
            if (prev_us >= k * Q_US && k_lo <= k && k <= k_last) { /* the usual interval: inside one quarter */
                add_interval(&parts[k - k_lo], length, length, cumulative, delta);
            } else {
                const int64_t prev_k = floor_div(prev_us, Q_US);
                const int64_t first_k = prev_k > k_lo ? prev_k : k_lo, last_k = k < k_last ? k : k_last;
                for (int64_t kk = first_k; kk <= last_k; kk++) {
                    const double start = (double)kk * Q_SECONDS;
                    const double end = start + Q_SECONDS;
                    const double overlap = (end < x ? end : x) - (start > prev_x ? start : prev_x);
                    if (overlap <= 0)
                        continue;
                    add_interval(&parts[kk - k_lo], overlap, length, cumulative, delta * (overlap / length));
                }
            }
        }
        prev_x = x;
        prev_v = value;
        prev_us = us;
        have_prev = 1;
    }
    window_close(&w);
    *out = (Folded){parts, k_lo, nq, cumulative, have_first, first_x, last_x};
    return 0;
}

static int folded_whole(const Folded *f, Py_ssize_t j)
{
    const double start = (double)(f->k_lo + j) * Q_SECONDS;
    return f->cumulative && f->have_first && f->first_x <= start && start + Q_SECONDS <= f->last_x;
}

static PyObject *quarters(PyObject *self, PyObject *args)
{
    PyObject *ts, *vs, *qs, *rollover_obj;
    long long lo_us, hi_us;
    int cumulative;
    double reset_fraction;
    Folded f;
    if (!PyArg_ParseTuple(args, "OOOLLpOd", &ts, &vs, &qs, &lo_us, &hi_us, &cumulative, &rollover_obj,
                          &reset_fraction) ||
        fold_window(&f, ts, vs, qs, lo_us, hi_us, cumulative, rollover_obj, reset_fraction) < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    for (Py_ssize_t j = 0; out != NULL && j < f.nq; j++) {
        if (!f.parts[j].present)
            continue;
        PyObject *whole = folded_whole(&f, j) ? Py_True : Py_False;
        PyObject *item = Py_BuildValue("(LON)", (long long)(f.k_lo + j), whole, quarter_row(&f.parts[j]));
        if (item == NULL || PyList_Append(out, item) < 0)
            Py_CLEAR(out);
        Py_XDECREF(item);
    }
    free(f.parts);
    return out;
}

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int b = bytes - 1; b >= 0; b--, v >>= 8)
        p[b] = (unsigned char)v;
}

/* One field of a binary COPY row: its length, then its value big-endian (length -1: NULL). */
static unsigned char *put_field(unsigned char *p, int present, uint64_t bits, int bytes)
{
    if (!present) {
        put_be(p, 0xFFFFFFFFu, 4);
        return p + 4;
    }
    put_be(p, (uint64_t)bytes, 4);
    put_be(p + 4, bits, bytes);
    return p + 4 + bytes;
}

static uint64_t double_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

#define QUARTER_ROW_MAX (2 + 14 * 4 + 8 + 8 + 1 + 3 * 4 + 8 * 8)

static PyObject *quarters_copy(PyObject *self, PyObject *args)
{
    PyObject *buffer, *ts, *vs, *qs, *rollover_obj;
    long long point_id, lo_us, hi_us;
    int cumulative;
    double reset_fraction;
    Folded f;
    if (!PyArg_ParseTuple(args, "O!LOOOLLpOd", &PyByteArray_Type, &buffer, &point_id, &ts, &vs, &qs, &lo_us,
                          &hi_us, &cumulative, &rollover_obj, &reset_fraction) ||
        fold_window(&f, ts, vs, qs, lo_us, hi_us, cumulative, rollover_obj, reset_fraction) < 0)
        return NULL;
    Py_ssize_t rows = 0;
    for (Py_ssize_t j = 0; j < f.nq; j++)
        rows += f.parts[j].present;
    const Py_ssize_t at = PyByteArray_GET_SIZE(buffer);
    if (PyByteArray_Resize(buffer, at + rows * QUARTER_ROW_MAX) < 0) {
        free(f.parts);
        return NULL;
    }
    unsigned char *start = (unsigned char *)PyByteArray_AS_STRING(buffer), *p = start + at;
    for (Py_ssize_t j = 0; j < f.nq; j++) {
        const Quarter *q = &f.parts[j];
        if (!q->present)
            continue;
        put_be(p, 14, 2);
        p += 2;
        p = put_field(p, 1, (uint64_t)point_id, 8);
        p = put_field(p, 1, (uint64_t)((f.k_lo + j) * Q_US - PG_EPOCH_US), 8);
        p = put_field(p, 1, (uint64_t)folded_whole(&f, j), 1);
        p = put_field(p, 1, (uint64_t)(uint32_t)q->count, 4);
        p = put_field(p, 1, (uint64_t)(uint32_t)q->flagged, 4);
        p = put_field(p, 1, (uint64_t)(uint32_t)q->usable, 4);
        p = put_field(p, 1, double_bits(q->vsum), 8);
        p = put_field(p, q->has_value, double_bits(q->vmin), 8);
        p = put_field(p, q->has_value, double_bits(q->vmax), 8);
        p = put_field(p, q->has_value, double_bits(q->first), 8);
        p = put_field(p, q->has_value, double_bits(q->last), 8);
        p = put_field(p, q->has_consumption, double_bits(q->consumption), 8);
        p = put_field(p, 1, double_bits(q->span), 8);
        p = put_field(p, 1, double_bits(q->longest), 8);
    }
    free(f.parts);
    if (PyByteArray_Resize(buffer, p - start) < 0)
        return NULL;
    return PyLong_FromSsize_t(rows);
}

/* ---- rollups/stream._fold ---- */

enum { COUNT, GOOD, VMIN, VMAX, VSUM, FIRST_TS, FIRST, LAST_TS, LAST, CONSUMPTION, RESETS, GAPS, FIELDS };

typedef struct {
    int64_t h, d; /* UTC hour, local day index */
    long count, good, resets, gaps;
    double vmin, vmax, vsum, first, last, consumption;
    int64_t first_ts, last_ts;
    char has_first, has_consumption;
} Part;

typedef struct {
    Part *items;
    Py_ssize_t len, cap;
    PyObject *dict; /* the point's parts: {(hour, day): [12 figures]} */
    int64_t *starts;
    Py_ssize_t days; /* starts holds days + 1 bounds */
} Parts;

static int part_load(Part *p, PyObject *list)
{
    if (!PyList_Check(list) || PyList_GET_SIZE(list) != FIELDS) {
        PyErr_SetString(PyExc_TypeError, "a rollup part is a list of 12 figures");
        return -1;
    }
    PyObject **f = ((PyListObject *)list)->ob_item;
    p->count = PyLong_AsLong(f[COUNT]);
    p->good = PyLong_AsLong(f[GOOD]);
    p->resets = PyLong_AsLong(f[RESETS]);
    p->gaps = PyLong_AsLong(f[GAPS]);
    p->vsum = PyFloat_AsDouble(f[VSUM]);
    p->has_first = f[FIRST_TS] != Py_None;
    if (p->has_first) {
        p->first_ts = PyLong_AsLongLong(f[FIRST_TS]);
        p->last_ts = PyLong_AsLongLong(f[LAST_TS]);
        p->vmin = PyFloat_AsDouble(f[VMIN]);
        p->vmax = PyFloat_AsDouble(f[VMAX]);
        p->first = PyFloat_AsDouble(f[FIRST]);
        p->last = PyFloat_AsDouble(f[LAST]);
    }
    p->has_consumption = f[CONSUMPTION] != Py_None;
    if (p->has_consumption)
        p->consumption = PyFloat_AsDouble(f[CONSUMPTION]);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *part_list(const Part *p)
{
    if (p->has_first)
        return Py_BuildValue("[lldddLdLdNll]", p->count, p->good, p->vmin, p->vmax, p->vsum,
                             (long long)p->first_ts, p->first, (long long)p->last_ts, p->last,
                             float_or_none(p->has_consumption, p->consumption), p->resets, p->gaps);
    return Py_BuildValue("[llOOdOOOONll]", p->count, p->good, Py_None, Py_None, p->vsum, Py_None, Py_None,
                         Py_None, Py_None, float_or_none(p->has_consumption, p->consumption), p->resets,
                         p->gaps);
}

/* Index of the part holding us (loaded from the dict, or new), with its bounds; -1 on error. */
static Py_ssize_t part_at(Parts *parts, int64_t us, int64_t *part_lo, int64_t *part_hi)
{
    const int64_t h = floor_div(us, H_US);
    Py_ssize_t lo = 0, hi = parts->days + 1; /* bisect_right(starts, us) - 1 */
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (us < parts->starts[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    const Py_ssize_t d = lo - 1;
    if (d < 0 || d >= parts->days) {
        PyErr_SetString(PyExc_ValueError, "a reading outside the point's calendar");
        return -1;
    }
    const int64_t day_lo = parts->starts[d], day_hi = parts->starts[d + 1];
    *part_lo = h * H_US > day_lo ? h * H_US : day_lo;
    *part_hi = (h + 1) * H_US < day_hi ? (h + 1) * H_US : day_hi;
    for (Py_ssize_t j = parts->len - 1; j >= 0; j--)
        if (parts->items[j].h == h && parts->items[j].d == d)
            return j;
    if (parts->len == parts->cap) {
        Py_ssize_t cap = parts->cap ? 2 * parts->cap : 16;
        Part *items = realloc(parts->items, cap * sizeof(Part));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        parts->items = items;
        parts->cap = cap;
    }
    Part *p = &parts->items[parts->len];
    memset(p, 0, sizeof *p);
    p->h = h;
    p->d = d;
    PyObject *key = Py_BuildValue("(LL)", (long long)h, (long long)d);
    if (key == NULL)
        return -1;
    PyObject *stored = PyDict_GetItemWithError(parts->dict, key);
    Py_DECREF(key);
    if (stored == NULL && PyErr_Occurred())
        return -1;
    if (stored != NULL && part_load(p, stored) < 0)
        return -1;
    return parts->len++;
}

static int parts_store(Parts *parts)
{
    for (Py_ssize_t j = 0; j < parts->len; j++) {
        const Part *p = &parts->items[j];
        PyObject *key = Py_BuildValue("(LL)", (long long)p->h, (long long)p->d);
        PyObject *row = key ? part_list(p) : NULL;
        int failed = row == NULL || PyDict_SetItem(parts->dict, key, row) < 0;
        Py_XDECREF(key);
        Py_XDECREF(row);
        if (failed)
            return -1;
    }
    return 0;
}

static PyObject *rollup_fold(PyObject *self, PyObject *args)
{
    PyObject *ts, *vs, *qs, *prev_us_obj, *prev_v_obj, *rollover_obj, *gap_obj, *starts_obj, *dict;
    long long skip_before, until, last;
    int cumulative;
    double reset_fraction;
    if (!PyArg_ParseTuple(args, "OOOLLLOOpOOdO!O!", &ts, &vs, &qs, &skip_before, &until, &last, &prev_us_obj,
                          &prev_v_obj, &cumulative, &rollover_obj, &gap_obj, &reset_fraction, &PyList_Type,
                          &starts_obj, &PyDict_Type, &dict))
        return NULL;
    int has_rollover, has_prev = prev_us_obj != Py_None, has_gap = gap_obj != Py_None;
    double rollover, prev_v = 0.0;
    int64_t prev_us = 0, gap = 0;
    if (optional_double(rollover_obj, &has_rollover, &rollover) < 0)
        return NULL;
    if (has_prev) {
        prev_us = PyLong_AsLongLong(prev_us_obj);
        prev_v = PyFloat_AsDouble(prev_v_obj);
    }
    if (has_gap)
        gap = PyLong_AsLongLong(gap_obj);
    if (PyErr_Occurred())
        return NULL;
    Parts parts = {NULL, 0, 0, dict, NULL, PyList_GET_SIZE(starts_obj) - 1};
    if (parts.days < 1) {
        PyErr_SetString(PyExc_ValueError, "a calendar needs a day");
        return NULL;
    }
    parts.starts = malloc((parts.days + 1) * sizeof(int64_t));
    if (parts.starts == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t j = 0; j <= parts.days; j++)
        parts.starts[j] = PyLong_AsLongLong(PyList_GET_ITEM(starts_obj, j));
    Window w;
    if (PyErr_Occurred() || window_open(&w, ts, vs, qs) < 0) {
        free(parts.starts);
        return NULL;
    }
    int failed = 0;
    int64_t part_lo = 0, part_hi = 0;
    Py_ssize_t cur = -1;
    Py_ssize_t i = 0;
    while (i < w.n && w_us(&w, i) < skip_before)
        i++;
    for (; i < w.n; i++) {
        const int64_t us = w_us(&w, i);
        if (us > until)
            break;
        const double v = w_value(&w, i);
        const int q = w_quality(&w, i);
        if (us <= last) { /* folded already: only the usable reading before the new ones matters */
            if (q < BAD_QUALITY) {
                prev_us = us;
                prev_v = v;
                has_prev = 1;
            }
            continue;
        }
        if (!(part_lo <= us && us < part_hi)) {
            cur = part_at(&parts, us, &part_lo, &part_hi);
            if (cur < 0) {
                failed = 1;
                break;
            }
        }
        Part *p = &parts.items[cur];
        p->count++;
        if (q == 0)
            p->good++;
        if (take_value(&p->has_first, &p->first, &p->vmin, &p->vmax, v))
            p->first_ts = us;
        p->vsum += v;
        p->last_ts = us;
        p->last = v;
        if (q >= BAD_QUALITY)
            continue;
        if (has_prev) {
            const int gapped = has_gap && us - prev_us > gap;
            if (cumulative || gapped) {
                /* the delta belongs to the part holding (end - 1 µs): another one only for a reading at its start */
                Part *to = p;
                if (us <= part_lo) {
                    int64_t other_lo, other_hi;
                    Py_ssize_t j = part_at(&parts, us - 1, &other_lo, &other_hi);
                    if (j < 0) {
                        failed = 1;
                        break;
                    }
                    to = &parts.items[j]; /* part_at may move the items: p is stale from here */
                }
                if (cumulative) {
                    int wrapped;
                    const double delta = step(prev_v, v, has_rollover, rollover, reset_fraction, &wrapped);
                    to->consumption = to->has_consumption ? to->consumption + delta : delta;
                    to->has_consumption = 1;
                    if (wrapped)
                        to->resets++;
                }
                if (gapped)
                    to->gaps++;
            }
        }
        prev_us = us;
        prev_v = v;
        has_prev = 1;
    }
    window_close(&w);
    free(parts.starts);
    if (!failed && parts_store(&parts) < 0)
        failed = 1;
    free(parts.items);
    if (failed)
        return NULL;
    if (!has_prev)
        return Py_BuildValue("(OO)", Py_None, Py_None);
    return Py_BuildValue("(Ld)", (long long)prev_us, prev_v);
}

/* ---- rollups/stream.RollupStream.rows, as binary COPY rows ---- */

/* acc += part, as stream._combine adds a later part to the hour or day it lies in. */
static void combine(Part *acc, const Part *part)
{
    acc->count += part->count;
    acc->good += part->good;
    if (part->has_first) {
        if (!acc->has_first) {
            acc->first_ts = part->first_ts;
            acc->first = part->first;
            acc->vmin = part->vmin;
            acc->vmax = part->vmax;
            acc->has_first = 1;
        } else {
            acc->vmin = part->vmin < acc->vmin ? part->vmin : acc->vmin; /* Python's min(acc, part) */
            acc->vmax = part->vmax > acc->vmax ? part->vmax : acc->vmax;
        }
        acc->last_ts = part->last_ts;
        acc->last = part->last;
    }
    acc->vsum += part->vsum;
    if (part->has_consumption) {
        acc->consumption = acc->has_consumption ? acc->consumption + part->consumption : part->consumption;
        acc->has_consumption = 1;
    }
    acc->resets += part->resets;
    acc->gaps += part->gaps;
}

static int by_time(const void *a, const void *b)
{
    const Part *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->d > y->d) - (x->d < y->d);
}

/* Append one rollup row: the key fields given, then the 12 statistics (STAT_COLUMNS order). */
static unsigned char *put_stats(unsigned char *p, const Part *a)
{
    p = put_field(p, 1, (uint64_t)(uint32_t)a->count, 4);
    p = put_field(p, 1, (uint64_t)(uint32_t)a->good, 4);
    p = put_field(p, a->has_first, double_bits(a->vmin), 8);
    p = put_field(p, a->has_first, double_bits(a->vmax), 8);
    p = put_field(p, 1, double_bits(a->vsum), 8);
    p = put_field(p, a->has_first, (uint64_t)(a->first_ts - PG_EPOCH_US), 8);
    p = put_field(p, a->has_first, double_bits(a->first), 8);
    p = put_field(p, a->has_first, (uint64_t)(a->last_ts - PG_EPOCH_US), 8);
    p = put_field(p, a->has_first, double_bits(a->last), 8);
    p = put_field(p, a->has_consumption, double_bits(a->consumption), 8);
    p = put_field(p, 1, (uint64_t)(uint32_t)a->resets, 4);
    return put_field(p, 1, (uint64_t)(uint32_t)a->gaps, 4);
}

#define ROLLUP_ROW_MAX (2 + 16 * 12 + 16 * 8)

/* Combine time-ordered parts per UTC hour and per local day and append them as binary COPY rows to hourly
   and to daily, each unless NULL (rollup_copy); 0, or -1 with an exception set. */
static int rollup_emit(const Part *parts, Py_ssize_t n, long long point_id, PyObject *starts_obj, PyObject *days_obj,
                       PyObject *hourly, PyObject *daily)
{
    const Py_ssize_t ndays = PyList_GET_SIZE(days_obj);
    Part *hours = calloc(n ? n : 1, sizeof(Part)), *days = calloc(ndays ? ndays : 1, sizeof(Part));
    char *seen = calloc(ndays ? ndays : 1, 1);
    int status = -1;
    if (hours == NULL || days == NULL || seen == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t nhours = 0, i;
    for (i = 0; i < n; i++) {
        const Part *part = &parts[i];
        if (nhours > 0 && hours[nhours - 1].h == part->h) {
            combine(&hours[nhours - 1], part);
        } else {
            hours[nhours] = *part;
            nhours++;
        }
        if (seen[part->d]) {
            combine(&days[part->d], part);
        } else {
            days[part->d] = *part;
            seen[part->d] = 1;
        }
    }
    Py_ssize_t ndone = 0;
    for (i = 0; i < ndays; i++)
        ndone += seen[i];
    unsigned char *start, *p;
    if (hourly != NULL) {
        const Py_ssize_t hourly_at = PyByteArray_GET_SIZE(hourly);
        if (PyByteArray_Resize(hourly, hourly_at + nhours * ROLLUP_ROW_MAX) < 0)
            goto done;
        start = (unsigned char *)PyByteArray_AS_STRING(hourly);
        p = start + hourly_at;
        for (i = 0; i < nhours; i++) { /* point_id, bucket, stats */
            put_be(p, 14, 2);
            p = put_field(p + 2, 1, (uint64_t)point_id, 8);
            p = put_field(p, 1, (uint64_t)(hours[i].h * H_US - PG_EPOCH_US), 8);
            p = put_stats(p, &hours[i]);
        }
        if (PyByteArray_Resize(hourly, p - start) < 0)
            goto done;
    }
    if (daily == NULL) {
        status = 0;
        goto done;
    }
    const Py_ssize_t daily_at = PyByteArray_GET_SIZE(daily);
    if (PyByteArray_Resize(daily, daily_at + ndone * ROLLUP_ROW_MAX) < 0)
        goto done;
    start = (unsigned char *)PyByteArray_AS_STRING(daily);
    p = start + daily_at;
    for (i = 0; i < ndays; i++) { /* point_id, day, bucket, bucket_end, stats */
        if (!seen[i])
            continue;
        const long long day = PyLong_AsLongLong(PyList_GET_ITEM(days_obj, i));
        const long long lo = PyLong_AsLongLong(PyList_GET_ITEM(starts_obj, i));
        const long long hi = PyLong_AsLongLong(PyList_GET_ITEM(starts_obj, i + 1));
        if (PyErr_Occurred())
            goto done;
        put_be(p, 16, 2);
        p = put_field(p + 2, 1, (uint64_t)point_id, 8);
        p = put_field(p, 1, (uint64_t)(uint32_t)(int32_t)day, 4);
        p = put_field(p, 1, (uint64_t)(lo - PG_EPOCH_US), 8);
        p = put_field(p, 1, (uint64_t)(hi - PG_EPOCH_US), 8);
        p = put_stats(p, &days[i]);
    }
    if (PyByteArray_Resize(daily, p - start) < 0)
        goto done;
    status = 0;
done:
    free(hours);
    free(days);
    free(seen);
    return status;
}

static PyObject *rollup_copy(PyObject *self, PyObject *args)
{
    PyObject *dict, *starts_obj, *days_obj, *hourly, *daily, *fresh_hourly = NULL, *fresh_daily = NULL;
    long long point_id, fresh_h = LLONG_MAX, fresh_d = LLONG_MAX;
    if (!PyArg_ParseTuple(args, "O!LO!O!O!O!|LLO!O!", &PyDict_Type, &dict, &point_id, &PyList_Type, &starts_obj,
                          &PyList_Type, &days_obj, &PyByteArray_Type, &hourly, &PyByteArray_Type, &daily, &fresh_h,
                          &fresh_d, &PyByteArray_Type, &fresh_hourly, &PyByteArray_Type, &fresh_daily))
        return NULL;
    if (fresh_h != LLONG_MAX && (fresh_hourly == NULL || fresh_daily == NULL)) {
        PyErr_SetString(PyExc_TypeError, "fresh rows need their own hourly and daily buffers");
        return NULL;
    }
    const Py_ssize_t n = PyDict_GET_SIZE(dict), ndays = PyList_GET_SIZE(days_obj);
    if (PyList_GET_SIZE(starts_obj) != ndays + 1) {
        PyErr_SetString(PyExc_ValueError, "a calendar has one start more than days");
        return NULL;
    }
    Part *parts = calloc(n ? n : 1, sizeof(Part));
    PyObject *result = NULL;
    if (parts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 2) {
            PyErr_SetString(PyExc_TypeError, "a rollup part's key is (hour, day index)");
            goto done;
        }
        parts[i].h = PyLong_AsLongLong(PyTuple_GET_ITEM(key, 0));
        parts[i].d = PyLong_AsLongLong(PyTuple_GET_ITEM(key, 1));
        if (part_load(&parts[i], value) < 0)
            goto done;
        if (parts[i].d < 0 || parts[i].d >= ndays) {
            PyErr_SetString(PyExc_ValueError, "a rollup part outside the point's calendar");
            goto done;
        }
        i++;
    }
    qsort(parts, n, sizeof(Part), by_time); /* in time order, as rows() combines them */
    /* In time order the parts of the hours after fresh_h follow all others, as do those of the days after
       fresh_d; each hour's and each day's parts lie together, so no row is split between the two sides. */
    Py_ssize_t kh = n, kd = n;
    while (kh > 0 && parts[kh - 1].h > fresh_h)
        kh--;
    while (kd > 0 && parts[kd - 1].d > fresh_d)
        kd--;
    if (rollup_emit(parts, kh, point_id, starts_obj, days_obj, hourly, NULL) < 0 ||
        rollup_emit(parts, kd, point_id, starts_obj, days_obj, NULL, daily) < 0)
        goto done;
    if (kh < n && rollup_emit(parts + kh, n - kh, point_id, starts_obj, days_obj, fresh_hourly, NULL) < 0)
        goto done;
    if (kd < n && rollup_emit(parts + kd, n - kd, point_id, starts_obj, days_obj, NULL, fresh_daily) < 0)
        goto done;
    result = Py_None;
    Py_INCREF(result);
done:
    free(parts);
    return result;
}

static PyMethodDef methods[] = {
    {"ordered", ordered, METH_O, "Whether a window's timestamptz_send stamps rise strictly."},
    {"quarters", quarters, METH_VARARGS,
     "quarters(stamps, values, qualities, lo_us, hi_us, cumulative, rollover, reset_fraction) -> "
     "[(quarter index, whole, row)] (energy_fold.fold_quarters)."},
    {"quarters_copy", quarters_copy, METH_VARARGS,
     "quarters_copy(buffer, point_id, stamps, values, qualities, lo_us, hi_us, cumulative, rollover, "
     "reset_fraction) -> rows: the quarters appended to a bytearray as binary COPY rows of energy_quarters "
     "(point_id, q, whole, count, flagged, usable, vsum, vmin, vmax, first_value, last_value, consumption, "
     "span_seconds, longest)."},
    {"rollup_copy", rollup_copy, METH_VARARGS,
     "rollup_copy(parts, point_id, starts, days, hourly, daily[, fresh_h, fresh_d, fresh_hourly, fresh_daily]): "
     "a point's parts combined per UTC hour and per local day (rollups.stream.RollupStream.rows), appended as "
     "binary COPY rows of rollup_hourly (point_id, bucket, STAT_COLUMNS) and rollup_daily (point_id, day, "
     "bucket, bucket_end, STAT_COLUMNS); days: each local day as days since 2000-01-01. With fresh_h and "
     "fresh_d, the rows of hours after fresh_h and of day indexes after fresh_d go to the fresh buffers."},
    {"rollup_fold", rollup_fold, METH_VARARGS,
     "rollup_fold(stamps, values, qualities, skip_before, until, last, prev_us, prev_v, cumulative, rollover, "
     "gap_us, reset_fraction, starts, parts) -> (prev_us, prev_v) (rollups.stream._fold)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fold", "The fold's per-reading loops in C.", -1, methods};

PyMODINIT_FUNC PyInit__fold(void) { return PyModule_Create(&module); }
