/* An upload's rows as one binary COPY payload, with each point's time span, in one pass in C.

   copy_rows(accepted, points, to_micros) is db/central/ingest/batch.py _rows_and_spans followed by
   copy_binary.encode_rows: the same bytes and the same spans (tests/db/central/ingest/test_native_rows.py),
   without a tuple, a struct call and a span check in Python per reading (~a fifth of the API's CPU per
   reading). accepted holds ParsedReading tuples ((meter, point), ts, value, unit, quality); points maps
   (meter, point) to (meter id, point id), and a missing key raises KeyError as the Python form does.
   to_micros(ts) gives microseconds since 2000-01-01 UTC for a timestamp whose zone is not UTC (the usual
   upload's timestamps are all UTC and are converted here). The rows are in (point id, time) order, upload
   order among equal keys, as the Python form's stable sort gives them: see sort_rows. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char HEADER[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
#define ROW_BYTES 44 /* 4 fields: int8, timestamptz, float8, int2, each with its length */

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int b = bytes - 1; b >= 0; b--, v >>= 8)
        p[b] = (unsigned char)v;
}

/* One COPY row: 4 fields, each with its length (point id, time since 2000 in µs, value, quality). */
static void put_row(unsigned char *p, long long point_id, int64_t us, double value, int16_t quality)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    put_be(p, 4, 2);
    put_be(p + 2, 8, 4);
    put_be(p + 6, (uint64_t)point_id, 8);
    put_be(p + 14, 8, 4);
    put_be(p + 18, (uint64_t)us, 8);
    put_be(p + 26, 8, 4);
    put_be(p + 30, bits, 8);
    put_be(p + 38, 2, 4);
    put_be(p + 42, (uint64_t)(uint16_t)quality, 2);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

#define PG_EPOCH_DAYS 10957 /* 2000-01-01 from 1970-01-01 */

/* Microseconds since 2000-01-01 UTC; 0 with an error set on failure. */
static int stamp_micros(PyObject *ts, PyObject *to_micros, int64_t *out)
{
    if (PyDateTime_Check(ts) && PyDateTime_DATE_GET_TZINFO(ts) == PyDateTime_TimeZone_UTC) {
        const int64_t days = days_from_civil(PyDateTime_GET_YEAR(ts), PyDateTime_GET_MONTH(ts),
                                             PyDateTime_GET_DAY(ts)) - PG_EPOCH_DAYS;
        const int64_t seconds = days * 86400 + PyDateTime_DATE_GET_HOUR(ts) * 3600 +
                                PyDateTime_DATE_GET_MINUTE(ts) * 60 + PyDateTime_DATE_GET_SECOND(ts);
        *out = seconds * 1000000 + PyDateTime_DATE_GET_MICROSECOND(ts);
        return 0;
    }
    PyObject *micros = PyObject_CallOneArg(to_micros, ts);
    if (micros == NULL)
        return -1;
    *out = PyLong_AsLongLong(micros);
    Py_DECREF(micros);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

typedef struct {
    long long point_id;
    PyObject *lo, *hi; /* the timestamps of the earliest and latest reading (borrowed from accepted) */
    int64_t lo_us, hi_us;
} Span;

/* Spans in the order their points first appear (as the Python form's dict), found through an
   open-addressing table of indexes + 1 (0: a free slot). */
typedef struct {
    Span *items;
    size_t len, cap;
    size_t *slots;
    size_t mask;
} Spans;

static size_t *span_slot(const Spans *spans, long long point_id)
{
    size_t i = ((uint64_t)point_id * 0x9E3779B97F4A7C15ULL) >> 40 & spans->mask;
    while (spans->slots[i] != 0 && spans->items[spans->slots[i] - 1].point_id != point_id)
        i = (i + 1) & spans->mask;
    return &spans->slots[i];
}

/* The span of point_id, added (empty) when new; NULL with an error set when out of memory. */
static Span *span_of(Spans *spans, long long point_id, int *added)
{
    size_t *slot = span_slot(spans, point_id);
    *added = *slot == 0;
    if (!*added)
        return &spans->items[*slot - 1];
    if (spans->len == spans->cap) {
        Span *items = realloc(spans->items, 2 * spans->cap * sizeof(Span));
        if (items == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        spans->items = items;
        spans->cap *= 2;
    }
    if (2 * (spans->len + 1) > spans->mask) {
        size_t mask = 2 * spans->mask + 1, *slots = calloc(mask + 1, sizeof(size_t));
        if (slots == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        free(spans->slots);
        spans->slots = slots;
        spans->mask = mask;
        for (size_t j = 0; j < spans->len; j++)
            *span_slot(spans, spans->items[j].point_id) = j + 1;
        slot = span_slot(spans, point_id);
    }
    *slot = ++spans->len;
    Span *span = &spans->items[spans->len - 1];
    span->point_id = point_id;
    return span;
}

typedef struct {
    long long point_id;
    int64_t us;
    Py_ssize_t index; /* upload order: equal keys keep it (the first of a repeated key is the one stored) */
} RowKey;

static int compare_keys(const void *a, const void *b)
{
    const RowKey *x = a, *y = b;
    if (x->point_id != y->point_id)
        return x->point_id < y->point_id ? -1 : 1;
    if (x->us != y->us)
        return x->us < y->us ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* The payload's rows in (point id, time) order: an edge sends each instant for all its points (time
   order), so one point's readings lay scattered over the heap, a page per reading or two; side by side, the
   rollup fold's read-back and a point's raw queries visit a page per many readings, and the primary key
   takes its entries in order. A new bytes object, or NULL with an error set. */
static PyObject *sort_rows(PyObject *payload, RowKey *keys, Py_ssize_t n)
{
    qsort(keys, (size_t)n, sizeof *keys, compare_keys);
    PyObject *sorted = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(payload));
    if (sorted == NULL)
        return NULL;
    const char *from = PyBytes_AS_STRING(payload) + sizeof HEADER;
    char *to = PyBytes_AS_STRING(sorted);
    memcpy(to, HEADER, sizeof HEADER);
    to += sizeof HEADER;
    for (Py_ssize_t i = 0; i < n; i++, to += ROW_BYTES)
        memcpy(to, from + keys[i].index * ROW_BYTES, ROW_BYTES);
    memcpy(to, from + n * ROW_BYTES, 2); /* the trailer */
    return sorted;
}

/* The trailer at p, then the rows sorted unless they came in order; -1 with an error set. */
static int finish_payload(PyObject **payload, unsigned char *p, RowKey *keys, Py_ssize_t n, int in_order)
{
    put_be(p, 0xFFFF, 2);
    if (!in_order) {
        PyObject *sorted = sort_rows(*payload, keys, n);
        if (sorted == NULL)
            return -1;
        Py_SETREF(*payload, sorted);
    }
    return 0;
}

static PyObject *copy_rows(PyObject *self, PyObject *args)
{
    PyObject *accepted, *points, *to_micros;
    if (!PyArg_ParseTuple(args, "O!O!O", &PyList_Type, &accepted, &PyDict_Type, &points, &to_micros))
        return NULL;
    const Py_ssize_t n = PyList_GET_SIZE(accepted);
    PyObject *payload = PyBytes_FromStringAndSize(NULL, sizeof HEADER + n * ROW_BYTES + 2);
    if (payload == NULL)
        return NULL;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(payload);
    memcpy(p, HEADER, sizeof HEADER);
    p += sizeof HEADER;
    Spans spans = {malloc(64 * sizeof(Span)), 0, 64, calloc(128, sizeof(size_t)), 127};
    RowKey *keys = malloc((n ? n : 1) * sizeof(RowKey));
    int in_order = 1;
    PyObject *result = NULL, *last_ts = NULL;
    int64_t last_us = 0;
    if (spans.items == NULL || spans.slots == NULL || keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *reading = PyList_GET_ITEM(accepted, i);
        if (!PyTuple_Check(reading) || PyTuple_GET_SIZE(reading) != 5) {
            PyErr_SetString(PyExc_TypeError, "a reading is a 5-tuple");
            goto done;
        }
        PyObject *key = PyTuple_GET_ITEM(reading, 0), *ts = PyTuple_GET_ITEM(reading, 1);
        PyObject *ids = PyDict_GetItemWithError(points, key);
        if (ids == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetObject(PyExc_KeyError, key);
            goto done;
        }
        if (!PyTuple_Check(ids) || PyTuple_GET_SIZE(ids) != 2) {
            PyErr_SetString(PyExc_TypeError, "a point's ids are (meter id, point id)");
            goto done;
        }
        const long long point_id = PyLong_AsLongLong(PyTuple_GET_ITEM(ids, 1));
        const double value = PyFloat_AsDouble(PyTuple_GET_ITEM(reading, 2));
        const long quality = PyLong_AsLong(PyTuple_GET_ITEM(reading, 4));
        if (PyErr_Occurred())
            goto done;
        if (ts != last_ts) { /* an upload repeats each instant for all its points */
            if (stamp_micros(ts, to_micros, &last_us) < 0)
                goto done;
            last_ts = ts;
        }
        put_row(p, point_id, last_us, value, (int16_t)quality);
        p += ROW_BYTES;
        keys[i] = (RowKey){point_id, last_us, i};
        if (i > 0 && compare_keys(&keys[i - 1], &keys[i]) > 0)
            in_order = 0;
        int added;
        Span *span = span_of(&spans, point_id, &added);
        if (span == NULL)
            goto done;
        if (added) {
            span->lo = span->hi = ts;
            span->lo_us = span->hi_us = last_us;
        } else if (last_us < span->lo_us) {
            span->lo = ts;
            span->lo_us = last_us;
        } else if (last_us > span->hi_us) {
            span->hi = ts;
            span->hi_us = last_us;
        }
    }
    if (finish_payload(&payload, p, keys, n, in_order) < 0)
        goto done;
    PyObject *touched = PyDict_New();
    if (touched == NULL)
        goto done;
    for (size_t i = 0; i < spans.len; i++) {
        const Span *span = &spans.items[i];
        PyObject *point_id = PyLong_FromLongLong(span->point_id);
        PyObject *bounds = point_id ? PyTuple_Pack(2, span->lo, span->hi) : NULL;
        int failed = bounds == NULL || PyDict_SetItem(touched, point_id, bounds) < 0;
        Py_XDECREF(point_id);
        Py_XDECREF(bounds);
        if (failed) {
            Py_DECREF(touched);
            goto done;
        }
    }
    result = PyTuple_Pack(2, payload, touched);
    Py_DECREF(touched);
done:
    free(keys);
    free(spans.items);
    free(spans.slots);
    Py_DECREF(payload);
    return result;
}

/* One reading of api/ingest/_readings.c (db/central/ingest/parse.py ColumnReadings reads the same layout). */
typedef struct {
    int64_t us; /* since 1970 UTC */
    double value;
    int32_t key, unit, quality, pad;
} Record;

#define PG_EPOCH_US 946684800000000LL

/* copy_rows for an upload decoded into records: point_ids[k] is the point of key index k. The spans are
   microseconds since 1970, per point in the order the points first appear. */
static PyObject *copy_columns(PyObject *self, PyObject *args)
{
    Py_buffer buffer;
    PyObject *point_ids;
    if (!PyArg_ParseTuple(args, "y*O!", &buffer, &PyList_Type, &point_ids))
        return NULL;
    PyObject *result = NULL, *payload = NULL;
    const Record *records = buffer.buf;
    const Py_ssize_t n = buffer.len / (Py_ssize_t)sizeof(Record), keys_n = PyList_GET_SIZE(point_ids);
    long long *pids = malloc((keys_n ? keys_n : 1) * sizeof(long long));
    int64_t *lo = malloc((keys_n ? keys_n : 1) * sizeof(int64_t)), *hi = malloc((keys_n ? keys_n : 1) * sizeof(int64_t));
    RowKey *keys = malloc((n ? n : 1) * sizeof(RowKey));
    if (pids == NULL || lo == NULL || hi == NULL || keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (buffer.len % (Py_ssize_t)sizeof(Record) != 0) {
        PyErr_SetString(PyExc_ValueError, "records are 32 bytes each");
        goto done;
    }
    for (Py_ssize_t k = 0; k < keys_n; k++) {
        pids[k] = PyLong_AsLongLong(PyList_GET_ITEM(point_ids, k));
        if (pids[k] == -1 && PyErr_Occurred())
            goto done;
        lo[k] = INT64_MAX;
        hi[k] = INT64_MIN;
    }
    payload = PyBytes_FromStringAndSize(NULL, sizeof HEADER + n * ROW_BYTES + 2);
    if (payload == NULL)
        goto done;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(payload);
    memcpy(p, HEADER, sizeof HEADER);
    p += sizeof HEADER;
    int in_order = 1;
    for (Py_ssize_t i = 0; i < n; i++, p += ROW_BYTES) {
        const Record *r = &records[i];
        if (r->key < 0 || r->key >= keys_n || r->quality < 0 || r->quality > 2) {
            PyErr_SetString(PyExc_ValueError, "a record's key or quality is out of range");
            goto done;
        }
        const long long point_id = pids[r->key];
        const int64_t us = r->us - PG_EPOCH_US;
        put_row(p, point_id, us, r->value, (int16_t)r->quality);
        keys[i] = (RowKey){point_id, us, i};
        if (i > 0 && compare_keys(&keys[i - 1], &keys[i]) > 0)
            in_order = 0;
        if (r->us < lo[r->key])
            lo[r->key] = r->us;
        if (r->us > hi[r->key])
            hi[r->key] = r->us;
    }
    if (finish_payload(&payload, p, keys, n, in_order) < 0)
        goto done;
    PyObject *touched = PyDict_New();
    if (touched == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < keys_n; k++) {
        if (lo[k] > hi[k])
            continue; /* a key without readings */
        PyObject *point_id = PyLong_FromLongLong(pids[k]), *known = NULL, *bounds = NULL;
        int failed = point_id == NULL;
        if (!failed) {
            known = PyDict_GetItemWithError(touched, point_id); /* two keys of one point: one span */
            failed = known == NULL && PyErr_Occurred();
        }
        if (!failed && known != NULL) {
            long long a = PyLong_AsLongLong(PyTuple_GET_ITEM(known, 0)), b = PyLong_AsLongLong(PyTuple_GET_ITEM(known, 1));
            bounds = Py_BuildValue("(LL)", a < lo[k] ? a : (long long)lo[k], b > hi[k] ? b : (long long)hi[k]);
        } else if (!failed) {
            bounds = Py_BuildValue("(LL)", (long long)lo[k], (long long)hi[k]);
        }
        failed = failed || bounds == NULL || PyDict_SetItem(touched, point_id, bounds) < 0;
        Py_XDECREF(point_id);
        Py_XDECREF(bounds);
        if (failed) {
            Py_DECREF(touched);
            goto done;
        }
    }
    result = PyTuple_Pack(2, payload, touched);
    Py_DECREF(touched);
done:
    PyBuffer_Release(&buffer);
    free(pids);
    free(lo);
    free(hi);
    free(keys);
    Py_XDECREF(payload);
    return result;
}

static uint64_t get_be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int b = 0; b < bytes; b++)
        v = v << 8 | p[b];
    return v;
}

/* An upload's stored rows, split by rollup part, as the fold reads a window: for each point (in the
   payload's (point, time) order) its id (int8) and row count (int4), then its times, values and qualities,
   each concatenated in the forms PostgreSQL sends them (timestamptz_send, float8send, int2send; all
   big-endian). The payload is one copy_rows or copy_columns made: fixed-size rows after the header. */
static PyObject *carried_parts(PyObject *self, PyObject *args)
{
    Py_buffer buffer;
    int parts;
    if (!PyArg_ParseTuple(args, "y*i", &buffer, &parts))
        return NULL;
    PyObject *result = NULL;
    const unsigned char *rows = (const unsigned char *)buffer.buf + sizeof HEADER;
    const Py_ssize_t body = buffer.len - (Py_ssize_t)sizeof HEADER - 2;
    Py_ssize_t *sizes = calloc(parts > 0 ? (size_t)parts : 1, sizeof(Py_ssize_t));
    PyObject **blobs = calloc(parts > 0 ? (size_t)parts : 1, sizeof(PyObject *));
    if (sizes == NULL || blobs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (parts <= 0 || body < 0 || body % ROW_BYTES != 0 || memcmp(buffer.buf, HEADER, sizeof HEADER) != 0) {
        PyErr_SetString(PyExc_ValueError, "not a binary COPY payload of reading rows");
        goto done;
    }
    const Py_ssize_t n = body / ROW_BYTES;
    /* first pass: each part's size; a point's rows are side by side (the payload is in point order) */
    for (Py_ssize_t i = 0; i < n;) {
        const long long pid = (long long)get_be(rows + i * ROW_BYTES + 6, 8);
        Py_ssize_t j = i + 1;
        while (j < n && (long long)get_be(rows + j * ROW_BYTES + 6, 8) == pid)
            j++;
        if (pid < 0) {
            PyErr_SetString(PyExc_ValueError, "a negative point id");
            goto done;
        }
        sizes[pid % parts] += 12 + (j - i) * 18;
        i = j;
    }
    for (int k = 0; k < parts; k++) {
        if (sizes[k] && (blobs[k] = PyBytes_FromStringAndSize(NULL, sizes[k])) == NULL)
            goto done;
        sizes[k] = 0; /* now each part's fill */
    }
    for (Py_ssize_t i = 0; i < n;) {
        const unsigned char *row = rows + i * ROW_BYTES;
        const long long pid = (long long)get_be(row + 6, 8);
        Py_ssize_t j = i + 1;
        while (j < n && (long long)get_be(rows + j * ROW_BYTES + 6, 8) == pid)
            j++;
        const Py_ssize_t m = j - i;
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(blobs[pid % parts]) + sizes[pid % parts];
        sizes[pid % parts] += 12 + m * 18;
        memcpy(out, row + 6, 8); /* the id as sent: big-endian int8 */
        put_be(out + 8, (uint64_t)m, 4);
        unsigned char *stamps = out + 12, *values = stamps + 8 * m, *qualities = values + 8 * m;
        for (Py_ssize_t r = 0; r < m; r++, row += ROW_BYTES) {
            memcpy(stamps + 8 * r, row + 18, 8);
            memcpy(values + 8 * r, row + 30, 8);
            memcpy(qualities + 2 * r, row + 42, 2);
        }
        i = j;
    }
    result = PyDict_New();
    for (int k = 0; result != NULL && k < parts; k++) {
        if (blobs[k] == NULL)
            continue;
        PyObject *part = PyLong_FromLong(k);
        if (part == NULL || PyDict_SetItem(result, part, blobs[k]) < 0)
            Py_CLEAR(result);
        Py_XDECREF(part);
    }
done:
    PyBuffer_Release(&buffer);
    for (int k = 0; blobs != NULL && k < parts; k++)
        Py_XDECREF(blobs[k]);
    free(sizes);
    free(blobs);
    return result;
}

typedef struct {
    long long pid;
    int64_t first, last; /* µs since 2000-01-01, as sent */
    Py_ssize_t blob, at, n; /* the blob, the offset of the point's times in it, its row count */
} Piece;

static int compare_pieces(const void *a, const void *b)
{
    const Piece *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return (x->blob > y->blob) - (x->blob < y->blob);
}

#define PG_EPOCH_US 946684800000000LL /* 2000-01-01 in µs since 1970 */

/* The points that carried_parts blobs hold, joined: db/central/rollups/carried.py collect, which was ~0.2 µs
   of Python per reading folded (a slice and a list per point and blob). blobs: a sequence of bytes or None.
   Returns ({point id: (first µs, last µs since 1970, times, values, qualities)}, [frozenset of the point ids
   of each blob]); a point whose pieces overlap in time (first of one at or before last of the one before)
   is left out of the dict: the fold reads what is stored for it. */
static PyObject *carried_points(PyObject *self, PyObject *args)
{
    PyObject *arg, *seq = NULL, *found = NULL, *held = NULL, *result = NULL;
    Piece *pieces = NULL;
    Py_ssize_t count = 0, room = 0;
    if (!PyArg_ParseTuple(args, "O", &arg) || (seq = PySequence_Fast(arg, "blobs must be a sequence")) == NULL)
        return NULL;
    const Py_ssize_t blobs = PySequence_Fast_GET_SIZE(seq);
    if ((held = PyList_New(blobs)) == NULL || (found = PyDict_New()) == NULL)
        goto done;
    for (Py_ssize_t b = 0; b < blobs; b++) {
        PyObject *blob = PySequence_Fast_GET_ITEM(seq, b), *ids = PyFrozenSet_New(NULL);
        if (ids == NULL)
            goto done;
        PyList_SET_ITEM(held, b, ids);
        if (blob == Py_None)
            continue;
        if (!PyBytes_Check(blob)) {
            PyErr_SetString(PyExc_TypeError, "a carried blob must be bytes or None");
            goto done;
        }
        const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(blob);
        const Py_ssize_t len = PyBytes_GET_SIZE(blob);
        for (Py_ssize_t at = 0; at < len;) {
            if (len - at < 12)
                goto malformed;
            const long long pid = (long long)get_be(data + at, 8);
            const Py_ssize_t n = (Py_ssize_t)get_be(data + at + 8, 4);
            if (n <= 0 || (len - at - 12) / 18 < n)
                goto malformed;
            if (count == room) {
                room = room ? 2 * room : 256;
                Piece *more = realloc(pieces, (size_t)room * sizeof(Piece));
                if (more == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
                pieces = more;
            }
            const unsigned char *stamps = data + at + 12;
            pieces[count++] = (Piece){pid, (int64_t)get_be(stamps, 8), (int64_t)get_be(stamps + 8 * (n - 1), 8),
                                      b, at + 12, n};
            PyObject *id = PyLong_FromLongLong(pid);
            if (id == NULL || PySet_Add(ids, id) < 0) {
                Py_XDECREF(id);
                goto done;
            }
            Py_DECREF(id);
            at += 12 + 18 * n;
        }
    }
    if (count)
        qsort(pieces, (size_t)count, sizeof(Piece), compare_pieces);
    for (Py_ssize_t i = 0; i < count;) {
        Py_ssize_t j = i + 1, rows = pieces[i].n;
        int overlap = 0;
        for (; j < count && pieces[j].pid == pieces[i].pid; j++) {
            overlap |= pieces[j].first <= pieces[j - 1].last;
            rows += pieces[j].n;
        }
        if (!overlap) {
            PyObject *columns[3] = {PyBytes_FromStringAndSize(NULL, 8 * rows),
                                    PyBytes_FromStringAndSize(NULL, 8 * rows),
                                    PyBytes_FromStringAndSize(NULL, 2 * rows)};
            PyObject *entry = NULL, *id = NULL;
            if (columns[0] && columns[1] && columns[2]) {
                char *out[3] = {PyBytes_AS_STRING(columns[0]), PyBytes_AS_STRING(columns[1]),
                                PyBytes_AS_STRING(columns[2])};
                for (Py_ssize_t k = i; k < j; k++) {
                    const char *src = PyBytes_AS_STRING(PySequence_Fast_GET_ITEM(seq, pieces[k].blob)) + pieces[k].at;
                    const Py_ssize_t n = pieces[k].n;
                    memcpy(out[0], src, 8 * n);
                    memcpy(out[1], src + 8 * n, 8 * n);
                    memcpy(out[2], src + 16 * n, 2 * n);
                    out[0] += 8 * n, out[1] += 8 * n, out[2] += 2 * n;
                }
                entry = Py_BuildValue("(LLOOO)", (long long)(pieces[i].first + PG_EPOCH_US),
                                      (long long)(pieces[j - 1].last + PG_EPOCH_US), columns[0], columns[1],
                                      columns[2]);
                id = PyLong_FromLongLong(pieces[i].pid);
            }
            const int failed = entry == NULL || id == NULL || PyDict_SetItem(found, id, entry) < 0;
            Py_XDECREF(entry);
            Py_XDECREF(id);
            for (int c = 0; c < 3; c++)
                Py_XDECREF(columns[c]);
            if (failed)
                goto done;
        }
        i = j;
    }
    result = PyTuple_Pack(2, found, held);
    goto done;
malformed:
    PyErr_SetString(PyExc_ValueError, "a carried blob is malformed");
done:
    free(pieces);
    Py_XDECREF(found);
    Py_XDECREF(held);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef methods[] = {
    {"copy_rows", copy_rows, METH_VARARGS,
     "copy_rows(accepted, points, to_micros) -> (binary COPY payload, {point id: (earliest ts, latest ts)})."},
    {"copy_columns", copy_columns, METH_VARARGS,
     "copy_columns(records, point_ids) -> (binary COPY payload, {point id: (earliest, latest µs since 1970)})."},
    {"carried_parts", carried_parts, METH_VARARGS,
     "carried_parts(payload, parts) -> {part: each of its points' id, count, times, values, qualities}."},
    {"carried_points", carried_points, METH_VARARGS,
     "carried_points(blobs) -> ({point id: (first µs, last µs, times, values, qualities)}, [ids per blob])."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rows", "An upload's rows as binary COPY data.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__rows(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    return PyModule_Create(&module);
}
