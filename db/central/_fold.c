/* The fold's per-reading loops in C, over a window's rows in PostgreSQL's binary forms.

   tail_keep() and newest_usable() are db/central/energy_tail.py keep and newest_usable; quarters() is
   db/central/energy_fold.py fold_quarters: the same float operations in the same order (built with -ffp-contract=off, so no fused
   multiply-add), hence the same figures bit for bit; tests/db/central/test_native_fold.py holds them equal.
   The Python forms stay the reference and the fallback where this module is not built. A window is three
   bytes objects: timestamptz_send (big-endian int64 microseconds since 2000), float8send and int2send of
   its rows, concatenated in time order (energy_summary.FOLD_ROWS_SQL). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define Q_US 900000000LL
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

/* ---- energy_tail.keep and energy_tail.newest_usable ---- */

/* keep(): the usable row before tail_us and every row from tail_us to upto_us, as kept bytes (times, values,
   qualities), or None when there is none or more than max_rows. */
static PyObject *tail_keep(PyObject *self, PyObject *args)
{
    PyObject *ts, *vs, *qs;
    long long tail_us, upto_us;
    Py_ssize_t max_rows;
    Window w;
    if (!PyArg_ParseTuple(args, "OOOLLn", &ts, &vs, &qs, &tail_us, &upto_us, &max_rows) ||
        window_open(&w, ts, vs, qs) < 0)
        return NULL;
    Py_ssize_t lo = 0, hi = w.n;
    while (lo < hi) { /* the first row at tail_us or later */
        const Py_ssize_t mid = lo + (hi - lo) / 2;
        if (w_us(&w, mid) < tail_us)
            lo = mid + 1;
        else
            hi = mid;
    }
    const Py_ssize_t start = lo;
    hi = w.n;
    while (lo < hi) { /* the first row after upto_us: the end */
        const Py_ssize_t mid = lo + (hi - lo) / 2;
        if (w_us(&w, mid) <= upto_us)
            lo = mid + 1;
        else
            hi = mid;
    }
    const Py_ssize_t end = lo;
    Py_ssize_t before = start - 1;
    while (before >= 0 && w_quality(&w, before) >= BAD_QUALITY)
        before--;
    const Py_ssize_t rows = (before >= 0) + (end - start);
    if (rows == 0 || rows > max_rows) {
        window_close(&w);
        Py_RETURN_NONE;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, rows * 18);
    if (out != NULL) {
        char *p = PyBytes_AS_STRING(out);
        const Py_buffer *columns[3] = {&w.ts, &w.vs, &w.qs};
        const Py_ssize_t widths[3] = {8, 8, 2};
        for (int c = 0; c < 3; c++) {
            const char *col = columns[c]->buf;
            const Py_ssize_t width = widths[c];
            if (before >= 0) {
                memcpy(p, col + width * before, width);
                p += width;
            }
            memcpy(p, col + width * start, width * (end - start));
            p += width * (end - start);
        }
    }
    window_close(&w);
    return out;
}

/* newest_usable(): the time (µs since 1970) of the newest row at index start or later whose quality is
   usable, or None. */
static PyObject *newest_usable(PyObject *self, PyObject *args)
{
    Py_buffer ts, qs;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "y*y*n", &ts, &qs, &start))
        return NULL;
    const Py_ssize_t n = ts.len / 8 < qs.len / 2 ? ts.len / 8 : qs.len / 2;
    PyObject *out = NULL;
    for (Py_ssize_t i = n - 1; i >= (start > 0 ? start : 0); i--) {
        const unsigned char *q = (const unsigned char *)qs.buf + 2 * i;
        if ((int16_t)(((unsigned)q[0] << 8) | q[1]) < BAD_QUALITY) {
            out = PyLong_FromLongLong((long long)load_be64((const unsigned char *)ts.buf + 8 * i) + PG_EPOCH_US);
            break;
        }
    }
    PyBuffer_Release(&ts);
    PyBuffer_Release(&qs);
    if (out == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;
    return out;
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

static PyMethodDef methods[] = {
    {"ordered", ordered, METH_O, "Whether a window's timestamptz_send stamps rise strictly."},
    {"tail_keep", tail_keep, METH_VARARGS,
     "tail_keep(stamps, values, qualities, tail_us, max_rows) -> bytes | None (energy_tail.keep)."},
    {"newest_usable", newest_usable, METH_VARARGS,
     "newest_usable(stamps, qualities, start) -> µs since 1970 | None (energy_tail.newest_usable)."},
    {"quarters", quarters, METH_VARARGS,
     "quarters(stamps, values, qualities, lo_us, hi_us, cumulative, rollover, reset_fraction) -> "
     "[(quarter index, whole, row)] (energy_fold.fold_quarters)."},
    {"quarters_copy", quarters_copy, METH_VARARGS,
     "quarters_copy(buffer, point_id, stamps, values, qualities, lo_us, hi_us, cumulative, rollover, "
     "reset_fraction) -> rows: the quarters appended to a bytearray as binary COPY rows of energy_quarters "
     "(point_id, q, whole, count, flagged, usable, vsum, vmin, vmax, first_value, last_value, consumption, "
     "span_seconds, longest)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fold", "The fold's per-reading loops in C.", -1, methods};

PyMODINIT_FUNC PyInit__fold(void) { return PyModule_Create(&module); }
