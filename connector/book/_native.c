/*
 * connector.book._native: the compiled L2 book engine.
 *
 * Same interface and rules as connector/book/pybook.py (its docstring is the
 * specification; tests/book/test_engines.py runs both side by side). What is
 * different is how a side is kept:
 *
 * - A price is an exact fixed-point integer: the decimal value times 10^18 in
 *   an unsigned 128-bit integer, read straight from the venue's text (no
 *   floating point anywhere). Values this cannot hold exactly (a non-zero digit
 *   past 18 decimal places, 10^20 or more, text over 23 characters) raise
 *   PrecisionError, and OrderBook moves that book to the Python engine.
 * - Each level keeps the venue's price and quantity text (what readers get
 *   back, and what becomes a Decimal in Python only when someone reads it).
 * - A side is a hash table of levels (open addressing, linear probing), so
 *   changing the quantity of a level, the most common change, is one probe and
 *   one write; a max-heap of keys finds the best level (removals leave stale
 *   entries that are dropped when they reach the top, and the heap is rebuilt
 *   once they outnumber the live levels); and an ascending array of keys for
 *   depth views that is brought up to date only when a view asks, from the
 *   keys changed since (or sorted again when too many changed). Inserting is
 *   O(log n) (the heap), removing O(1), reading the best level O(1) amortized.
 *   Keys are normalized so that the greatest key is the best level on both
 *   sides (asks store the bitwise complement of the value).
 *
 * Input is validated before anything changes: a call parses both sides into
 * scratch arrays first, then applies them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef __SIZEOF_INT128__
#error "connector.book._native needs a compiler with 128-bit integers"
#endif

typedef unsigned __int128 u128;

#define TEXT_MAX 23 /* longest price or quantity text a level holds (a level: 64 bytes) */
#define SCALE 18    /* decimal places of the fixed-point values */

static u128 POW10[39];
static u128 MAX_MANTISSA[39]; /* LIMIT / 10^k: the largest mantissa scaling by 10^k can take */
#define LIMIT (POW10[38])     /* 10^20 in units of 10^-18 */

static PyObject *PrecisionError;

/* -- texts and parsing ---------------------------------------------------- */

/* One level read from the input, not yet applied. */
typedef struct {
    u128 key;         /* normalized: value for bids, ~value for asks */
    const char *p, *q;
    uint8_t plen, qlen;
    uint8_t zero; /* quantity is zero: remove */
} Parsed;

enum { NUM_OK = 0, NUM_BAD = 1, NUM_INEXACT = 2 };

/* Parse unsigned decimal text (digits, optional point, optional exponent) into
 * value * 10^18. */
/* Significant digits read so far: in 64 bits while they fit (the common case),
 * then in 128. */
typedef struct {
    uint64_t small;
    u128 wide;
    int digits; /* significant digits (leading zeros are not) */
} Mantissa;

static inline void
add_digit(Mantissa *m, unsigned d)
{
    if (m->digits == 0 && d == 0)
        return;
    if (m->digits < 19)
        m->small = m->small * 10 + d;
    else if (m->digits == 19)
        m->wide = (u128)m->small * 10 + d;
    else if (m->digits < 38)
        m->wide = m->wide * 10 + d;
    m->digits++;
}

static int parse_decimal_general(const char *s, Py_ssize_t len, u128 *out);

/* Fast path for what venues send: up to 19 characters of digits and one
 * point, no exponent. Such a value is below 10^19 * 10^18 < LIMIT and has at
 * most 18 decimals, so it always fits; anything else takes the general path. */
static inline int
parse_decimal(const char *s, Py_ssize_t len, u128 *out)
{
    if (len == 0 || len > 19)
        return parse_decimal_general(s, len, out);
    uint64_t m = 0;
    Py_ssize_t dot = -1;
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d < 10)
            m = m * 10 + d;
        else if (s[i] == '.' && dot < 0)
            dot = i;
        else
            return parse_decimal_general(s, len, out);
    }
    if (dot == 0 && len == 1)
        return NUM_BAD; /* "." alone */
    *out = (u128)m * POW10[dot < 0 ? SCALE : SCALE - (len - dot - 1)];
    return NUM_OK;
}

static int
parse_decimal_general(const char *s, Py_ssize_t len, u128 *out)
{
    Py_ssize_t i = 0;
    Mantissa m = {0, 0, 0};
    int any = 0;
    long frac = 0, exp = 0;

    while (i < len && (unsigned)(s[i] - '0') < 10) {
        add_digit(&m, (unsigned)(s[i] - '0'));
        any = 1;
        i++;
    }
    if (i < len && s[i] == '.') {
        /* Trailing zeros of the fraction do not change the value: they are
         * counted only once a non-zero digit follows them. */
        long zeros = 0;
        i++;
        while (i < len && (unsigned)(s[i] - '0') < 10) {
            unsigned d = (unsigned)(s[i] - '0');
            any = 1;
            i++;
            if (d == 0) {
                zeros++;
                continue;
            }
            for (; zeros > 0; zeros--, frac++)
                add_digit(&m, 0);
            add_digit(&m, d);
            frac++;
        }
    }
    if (!any)
        return NUM_BAD;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int negative = 0, exp_digits = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            negative = s[i] == '-';
            i++;
        }
        while (i < len && (unsigned)(s[i] - '0') < 10) {
            if (exp < 100000)
                exp = exp * 10 + (s[i] - '0');
            exp_digits++;
            i++;
        }
        if (!exp_digits)
            return NUM_BAD;
        if (negative)
            exp = -exp;
    }
    if (i != len)
        return NUM_BAD;
    if (m.digits > 38)
        return NUM_INEXACT;
    if (m.digits == 0) {
        *out = 0;
        return NUM_OK;
    }
    long scale = SCALE - frac + exp;
    u128 value = m.digits <= 19 ? (u128)m.small : m.wide;
    if (scale >= 0) {
        if (scale > 38 || value > MAX_MANTISSA[scale])
            return NUM_INEXACT;
        value *= POW10[scale];
        if (value >= LIMIT)
            return NUM_INEXACT;
    }
    else {
        /* Digits past 18 decimal places: exact only if they are all zeros. */
        if (-scale > 38 || value % POW10[-scale])
            return NUM_INEXACT;
        value /= POW10[-scale];
    }
    *out = value;
    return NUM_OK;
}

static PyObject *
text_repr_source(const char *s, Py_ssize_t len)
{
    return PyUnicode_DecodeUTF8(s, len, "replace");
}

/* Set the exception for a number that failed with `status`. */
static void
number_error(int status, const char *s, Py_ssize_t len)
{
    PyObject *text = text_repr_source(s, len);
    if (text == NULL)
        return;
    if (status == NUM_BAD)
        PyErr_Format(PyExc_ValueError, "not a decimal number: %R", text);
    else
        PyErr_Format(PrecisionError,
                     "cannot hold %R exactly: more than %d characters, a digit past %d "
                     "decimal places, or 10**20 or more",
                     text, TEXT_MAX, SCALE);
    Py_DECREF(text);
}

static int
parse_level(const char *p, Py_ssize_t plen, const char *q, Py_ssize_t qlen, int bid,
            Parsed *out)
{
    u128 price, qty;
    int status = parse_decimal(p, plen, &price);
    int qstatus = parse_decimal(q, qlen, &qty);
    /* A level keeps its text: longer text cannot be held (but is a number). */
    if (status == NUM_OK && plen > TEXT_MAX)
        status = NUM_INEXACT;
    if (qstatus == NUM_OK && qlen > TEXT_MAX)
        qstatus = NUM_INEXACT;
    /* A malformed text is reported before one that is merely too precise. */
    if (status == NUM_BAD || (status == NUM_INEXACT && qstatus != NUM_BAD)) {
        number_error(status, p, plen);
        return -1;
    }
    if (qstatus != NUM_OK) {
        number_error(qstatus, q, qlen);
        return -1;
    }
    if (price == 0) {
        PyObject *text = text_repr_source(p, plen);
        if (text != NULL) {
            PyErr_Format(PyExc_ValueError, "price must be positive: %R", text);
            Py_DECREF(text);
        }
        return -1;
    }
    out->key = bid ? price : ~price;
    out->p = p;
    out->q = q;
    out->plen = (uint8_t)plen;
    out->qlen = (uint8_t)qlen;
    out->zero = qty == 0;
    return 0;
}

/* -- scratch arrays -------------------------------------------------------- */

typedef struct {
    Parsed *v;
    Py_ssize_t n, cap;
} Scratch;

static Parsed *
scratch_next(Scratch *s)
{
    if (s->n == s->cap) {
        Py_ssize_t cap = s->cap ? s->cap * 2 : 256;
        Parsed *v = PyMem_Realloc(s->v, (size_t)cap * sizeof(Parsed));
        if (v == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        s->v = v;
        s->cap = cap;
    }
    return &s->v[s->n++];
}

/* -- JSON level arrays ----------------------------------------------------- */

typedef struct {
    const char *s;
    Py_ssize_t n, i;
} Cursor;

static inline void
skip_ws(Cursor *c)
{
    while (c->i < c->n) {
        char ch = c->s[c->i];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
            break;
        c->i++;
    }
}

static int
json_error(Cursor *c, const char *what)
{
    PyErr_Format(PyExc_ValueError, "malformed book levels: %s at offset %zd", what, c->i);
    return -1;
}

static inline int
expect(Cursor *c, char ch, const char *what)
{
    skip_ws(c);
    if (c->i >= c->n || c->s[c->i] != ch)
        return json_error(c, what);
    c->i++;
    return 0;
}

/* A JSON string without escapes: its contents. */
static inline int
json_string(Cursor *c, const char **start, Py_ssize_t *len)
{
    if (expect(c, '"', "expected a string") < 0)
        return -1;
    Py_ssize_t i = c->i;
    const char *s = c->s;
    while (i < c->n && s[i] != '"') {
        if (s[i] == '\\')
            return json_error(c, "escaped string in a level");
        i++;
    }
    if (i >= c->n)
        return json_error(c, "unterminated string");
    *start = s + c->i;
    *len = i - c->i;
    c->i = i + 1;
    return 0;
}

/* A JSON number (its grammar exactly) or one of true, false, null. */
static int
skip_scalar(Cursor *c)
{
    const char *s = c->s;
    Py_ssize_t i = c->i, n = c->n;
    static const char *const words[] = {"true", "false", "null"};
    for (int w = 0; w < 3; w++) {
        Py_ssize_t len = (Py_ssize_t)strlen(words[w]);
        if (n - i >= len && memcmp(s + i, words[w], (size_t)len) == 0) {
            c->i = i + len;
            return 0;
        }
    }
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return json_error(c, "expected a value");
    if (i < n && s[i] == '.') {
        Py_ssize_t first = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == first)
            return json_error(c, "expected a digit after '.'");
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        Py_ssize_t first = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == first)
            return json_error(c, "expected an exponent");
    }
    c->i = i;
    return 0;
}

#define SKIP_DEPTH 32

/* An extra element of a level (OKX sends four): any JSON value, read and
 * ignored (strings without escapes, as everywhere in a level). */
static int
skip_value(Cursor *c, int depth)
{
    skip_ws(c);
    if (c->i >= c->n)
        return json_error(c, "expected a value");
    char open = c->s[c->i];
    if (open == '"') {
        const char *start;
        Py_ssize_t len;
        return json_string(c, &start, &len);
    }
    if (open != '[' && open != '{')
        return skip_scalar(c);
    if (depth >= SKIP_DEPTH)
        return json_error(c, "nested too deeply");
    char close = open == '[' ? ']' : '}';
    c->i++;
    skip_ws(c);
    if (c->i < c->n && c->s[c->i] == close) {
        c->i++;
        return 0;
    }
    for (;;) {
        if (open == '{') {
            const char *key;
            Py_ssize_t len;
            skip_ws(c);
            if (json_string(c, &key, &len) < 0 || expect(c, ':', "expected ':'") < 0)
                return -1;
        }
        if (skip_value(c, depth + 1) < 0)
            return -1;
        skip_ws(c);
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            continue;
        }
        return expect(c, close, open == '[' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
}

static int
parse_json(const char *s, Py_ssize_t n, int bid, Scratch *out)
{
    Cursor c = {s, n, 0};
    out->n = 0;
    if (expect(&c, '[', "expected '['") < 0)
        return -1;
    skip_ws(&c);
    if (c.i < c.n && c.s[c.i] == ']') {
        c.i++;
    }
    else {
        for (;;) {
            const char *p, *q;
            Py_ssize_t plen, qlen;
            if (expect(&c, '[', "expected a level '['") < 0 || json_string(&c, &p, &plen) < 0 ||
                expect(&c, ',', "expected ',' after the price") < 0 ||
                json_string(&c, &q, &qlen) < 0)
                return -1;
            skip_ws(&c);
            while (c.i < c.n && c.s[c.i] == ',') {
                c.i++;
                if (skip_value(&c, 0) < 0)
                    return -1;
                skip_ws(&c);
            }
            if (expect(&c, ']', "expected ']' closing a level") < 0)
                return -1;
            Parsed *level = scratch_next(out);
            if (level == NULL || parse_level(p, plen, q, qlen, bid, level) < 0)
                return -1;
            skip_ws(&c);
            if (c.i < c.n && c.s[c.i] == ',') {
                c.i++;
                continue;
            }
            if (expect(&c, ']', "expected ',' or ']'") < 0)
                return -1;
            break;
        }
    }
    skip_ws(&c);
    if (c.i != c.n)
        return json_error(&c, "trailing text");
    return 0;
}

/* -- sequences of (price, qty, ...) strings -------------------------------- */

static int
text_of(PyObject *item, const char **s, Py_ssize_t *len)
{
    if (!PyUnicode_Check(item)) {
        PyErr_Format(PyExc_ValueError, "not a decimal number: %R", item);
        return -1;
    }
    *s = PyUnicode_AsUTF8AndSize(item, len);
    return *s == NULL ? -1 : 0;
}

/* Parse `levels` into `out`; `*keep` receives the sequence object to hold
 * until the parsed texts are no longer needed. */
static int
parse_pairs(PyObject *levels, int bid, Scratch *out, PyObject **keep)
{
    PyObject *seq = PySequence_Fast(levels, "book levels must be a sequence");
    *keep = seq;
    out->n = 0;
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *level = items[k];
        PyObject *price, *qty;
        if (PyTuple_Check(level) && PyTuple_GET_SIZE(level) >= 2) {
            price = PyTuple_GET_ITEM(level, 0);
            qty = PyTuple_GET_ITEM(level, 1);
        }
        else if (PyList_Check(level) && PyList_GET_SIZE(level) >= 2) {
            price = PyList_GET_ITEM(level, 0);
            qty = PyList_GET_ITEM(level, 1);
        }
        else {
            PyErr_Format(PyExc_ValueError,
                         "a book level needs a price and a quantity, got %R", level);
            return -1;
        }
        const char *p, *q;
        Py_ssize_t plen, qlen;
        if (text_of(price, &p, &plen) < 0 || text_of(qty, &q, &qlen) < 0)
            return -1;
        Parsed *parsed = scratch_next(out);
        if (parsed == NULL || parse_level(p, plen, q, qlen, bid, parsed) < 0)
            return -1;
    }
    return 0;
}

/* -- one side -------------------------------------------------------------- */

/* A level: its normalized key and the venue's text (one cache line). */
typedef struct {
    u128 key;
    uint8_t plen, qlen;
    char p[TEXT_MAX];
    char q[TEXT_MAX];
} Level;

/* A hash-table bucket: the key's 32-bit hash and its level's slot + 1 (0: empty). */
typedef struct {
    uint32_t hash;
    uint32_t slot1;
} Bucket;

typedef struct {
    Level *levels;   /* pool, indexed by slot */
    uint32_t *free;  /* free slots (capacity: the pool's) */
    uint32_t nlevels, levels_cap, nfree;
    Bucket *table;   /* open addressing, linear probing, at most half full */
    uint32_t mask;   /* buckets - 1 (table NULL: none) */
    Py_ssize_t count;
    u128 *heap;      /* max-heap of keys; removed levels leave stale entries */
    Py_ssize_t nheap, heap_cap;
    u128 *keys;      /* every key, ascending, once `pending` is merged */
    Py_ssize_t nkeys, keys_cap;
    u128 *pending;   /* keys inserted or removed since the last merge */
    Py_ssize_t npending, pending_cap;
    int unsorted;    /* `keys` dropped: the next view sorts every key again */
} Side;

#define HEAP_SLACK 64
#define PENDING_SLACK 4096

static void
side_free(Side *s)
{
    PyMem_Free(s->levels);
    PyMem_Free(s->free);
    PyMem_Free(s->table);
    PyMem_Free(s->heap);
    PyMem_Free(s->keys);
    PyMem_Free(s->pending);
    memset(s, 0, sizeof(*s));
}

static inline uint32_t
key_hash(u128 key)
{
    uint64_t x = (uint64_t)key ^ ((uint64_t)(key >> 64) * 0x9E3779B97F4A7C15ULL);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

/* The bucket holding `key`, or -1 with `*empty` the bucket where it would go. */
static inline Py_ssize_t
table_find(const Side *s, u128 key, uint32_t hash, Py_ssize_t *empty)
{
    if (s->table == NULL) {
        *empty = -1;
        return -1;
    }
    uint32_t i = hash & s->mask;
    for (;;) {
        Bucket b = s->table[i];
        if (b.slot1 == 0) {
            *empty = i;
            return -1;
        }
        if (b.hash == hash && s->levels[b.slot1 - 1].key == key)
            return i;
        i = (i + 1) & s->mask;
    }
}

static inline const Level *
side_get(const Side *s, u128 key)
{
    Py_ssize_t empty, i = table_find(s, key, key_hash(key), &empty);
    return i < 0 ? NULL : &s->levels[s->table[i].slot1 - 1];
}

/* Empty bucket `i` (backward shift: no tombstones, probes stay short). */
static void
table_remove(Side *s, uint32_t i)
{
    const uint32_t mask = s->mask;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        Bucket b = s->table[j];
        if (b.slot1 == 0)
            break;
        /* b may fill the hole at i unless its home lies in (i, j]. */
        if (((j - (b.hash & mask)) & mask) >= ((j - i) & mask)) {
            s->table[i] = b;
            i = j;
        }
    }
    s->table[i].slot1 = 0;
}

static int
grow(void **array, Py_ssize_t *cap, Py_ssize_t need, size_t item)
{
    if (need <= *cap)
        return 0;
    Py_ssize_t size = *cap ? *cap : 64;
    while (size < need)
        size *= 2;
    void *bigger = PyMem_Realloc(*array, (size_t)size * item);
    if (bigger == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *array = bigger;
    *cap = size;
    return 0;
}

/* Room for `more` levels than now, so that an apply cannot fail half way. */
static int
side_reserve(Side *s, Py_ssize_t more)
{
    Py_ssize_t need = s->count + more;
    if (need > (Py_ssize_t)(UINT32_MAX / 4)) {
        PyErr_SetString(PyExc_MemoryError, "book side too large");
        return -1;
    }
    if (need > (Py_ssize_t)s->levels_cap) {
        Py_ssize_t cap = s->levels_cap;
        if (grow((void **)&s->levels, &cap, need, sizeof(Level)) < 0)
            return -1;
        Py_ssize_t free_cap = s->levels_cap;
        if (grow((void **)&s->free, &free_cap, cap, sizeof(uint32_t)) < 0)
            return -1;
        s->levels_cap = (uint32_t)cap;
    }
    Py_ssize_t buckets = s->table ? (Py_ssize_t)s->mask + 1 : 0;
    if (2 * need > buckets) {
        Py_ssize_t size = buckets ? buckets : 64;
        while (2 * need > size)
            size *= 2;
        Bucket *table = PyMem_Calloc((size_t)size, sizeof(Bucket));
        if (table == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        uint32_t mask = (uint32_t)size - 1;
        for (Py_ssize_t k = 0; k < buckets; k++) {
            Bucket b = s->table[k];
            if (b.slot1) {
                uint32_t i = b.hash & mask;
                while (table[i].slot1)
                    i = (i + 1) & mask;
                table[i] = b;
            }
        }
        PyMem_Free(s->table);
        s->table = table;
        s->mask = mask;
    }
    if (grow((void **)&s->heap, &s->heap_cap, s->nheap + more, sizeof(u128)) < 0)
        return -1;
    if (!s->unsorted &&
        grow((void **)&s->pending, &s->pending_cap, s->npending + more, sizeof(u128)) < 0)
        return -1;
    return 0;
}

static void
heap_push(Side *s, u128 key)
{
    u128 *heap = s->heap;
    Py_ssize_t i = s->nheap++;
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (heap[parent] >= key)
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = key;
}

static void
heap_sift_down(u128 *heap, Py_ssize_t n, Py_ssize_t i)
{
    u128 key = heap[i];
    for (;;) {
        Py_ssize_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && heap[child + 1] > heap[child])
            child++;
        if (heap[child] <= key)
            break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = key;
}

/* Every live key into `out` (room for `count`), in table order. */
static void
live_keys(const Side *s, u128 *out)
{
    Py_ssize_t n = 0;
    if (s->table == NULL)
        return;
    for (uint32_t k = 0; k <= s->mask; k++)
        if (s->table[k].slot1)
            out[n++] = s->levels[s->table[k].slot1 - 1].key;
}

static void
heap_rebuild(Side *s)
{
    live_keys(s, s->heap);
    s->nheap = s->count;
    for (Py_ssize_t i = s->nheap / 2 - 1; i >= 0; i--)
        heap_sift_down(s->heap, s->nheap, i);
}

/* The best level (greatest key), or NULL; pops stale heap entries on the way. */
static const Level *
side_best(Side *s)
{
    while (s->nheap) {
        const Level *level = side_get(s, s->heap[0]);
        if (level != NULL)
            return level;
        s->heap[0] = s->heap[--s->nheap];
        if (s->nheap)
            heap_sift_down(s->heap, s->nheap, 0);
    }
    return NULL;
}

/* Copy n <= TEXT_MAX bytes with fixed-size moves (two that may overlap) rather
 * than a variable-length memcpy, which compilers turn into a slow string move. */
static inline void
text_copy(char *dst, const char *src, uint8_t n)
{
    if (n >= 8) {
        if (n > 16)
            memcpy(dst, src, 16);
        else
            memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    }
    else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    }
    else {
        for (uint8_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

static void
text_write(Level *level, const Parsed *lv)
{
    level->plen = lv->plen;
    level->qlen = lv->qlen;
    text_copy(level->p, lv->p, lv->plen);
    text_copy(level->q, lv->q, lv->qlen);
}

/* Apply parsed levels in order (room reserved by the caller). `track`: record
 * ordering work (heap, pending keys); a load rebuilds both afterwards instead. */
static void
side_put(Side *s, const Scratch *in, int track)
{
    const int pend = track && !s->unsorted;
    for (Py_ssize_t k = 0; k < in->n; k++) {
        const Parsed *lv = &in->v[k];
        uint32_t hash = key_hash(lv->key);
        Py_ssize_t empty, i = table_find(s, lv->key, hash, &empty);
        if (lv->zero) {
            if (i < 0)
                continue;
            s->free[s->nfree++] = s->table[i].slot1 - 1;
            table_remove(s, (uint32_t)i);
            s->count--;
            if (pend)
                s->pending[s->npending++] = lv->key;
        }
        else if (i >= 0) {
            text_write(&s->levels[s->table[i].slot1 - 1], lv);
        }
        else {
            uint32_t slot = s->nfree ? s->free[--s->nfree] : s->nlevels++;
            s->levels[slot].key = lv->key;
            text_write(&s->levels[slot], lv);
            s->table[empty].hash = hash;
            s->table[empty].slot1 = slot + 1;
            s->count++;
            if (track)
                heap_push(s, lv->key);
            if (pend)
                s->pending[s->npending++] = lv->key;
        }
    }
}

static int
side_apply(Side *s, const Scratch *in)
{
    if (side_reserve(s, in->n) < 0)
        return -1;
    side_put(s, in, 1);
    if (s->nheap > 2 * s->count + HEAP_SLACK)
        heap_rebuild(s);
    if (!s->unsorted && s->npending > s->count + s->nkeys + PENDING_SLACK) {
        /* Nobody reads depth views: stop queueing, sort again when one asks. */
        s->unsorted = 1;
        s->npending = 0;
    }
    return 0;
}

static int
side_load(Side *s, const Scratch *in)
{
    side_free(s);
    if (side_reserve(s, in->n) < 0)
        return -1;
    side_put(s, in, 0);
    heap_rebuild(s);
    s->unsorted = 1;
    return 0;
}

static int
compare_keys(const void *x, const void *y)
{
    u128 a = *(const u128 *)x, b = *(const u128 *)y;
    return (a > b) - (a < b);
}

static Py_ssize_t
lower_bound(const u128 *keys, Py_ssize_t n, u128 key)
{
    Py_ssize_t lo = 0;
    while (n > 0) {
        Py_ssize_t half = n / 2;
        if (keys[lo + half] < key) {
            lo += half + 1;
            n -= half + 1;
        }
        else {
            n = half;
        }
    }
    return lo;
}

/* Bring `keys` up to date: merge the pending keys, or sort every key again. */
static int
side_sort(Side *s)
{
    if (!s->unsorted && s->npending <= s->nkeys / 8 + 64) {
        for (Py_ssize_t k = 0; k < s->npending; k++) {
            u128 key = s->pending[k];
            Py_ssize_t i = lower_bound(s->keys, s->nkeys, key);
            int there = i < s->nkeys && s->keys[i] == key;
            int live = side_get(s, key) != NULL;
            if (live && !there) {
                if (grow((void **)&s->keys, &s->keys_cap, s->nkeys + 1, sizeof(u128)) < 0)
                    return -1;
                memmove(&s->keys[i + 1], &s->keys[i], (size_t)(s->nkeys - i) * sizeof(u128));
                s->keys[i] = key;
                s->nkeys++;
            }
            else if (!live && there) {
                memmove(&s->keys[i], &s->keys[i + 1], (size_t)(s->nkeys - i - 1) * sizeof(u128));
                s->nkeys--;
            }
        }
    }
    else {
        if (grow((void **)&s->keys, &s->keys_cap, s->count, sizeof(u128)) < 0)
            return -1;
        live_keys(s, s->keys);
        s->nkeys = s->count;
        qsort(s->keys, (size_t)s->nkeys, sizeof(u128), compare_keys);
        s->unsorted = 0;
    }
    s->npending = 0;
    return 0;
}

/* Keep the best `limit` levels (the greatest keys). */
static int
side_trim(Side *s, Py_ssize_t limit)
{
    if (s->count <= limit)
        return 0;
    if (side_sort(s) < 0)
        return -1;
    Py_ssize_t extra = s->nkeys - limit;
    for (Py_ssize_t k = 0; k < extra; k++) {
        Py_ssize_t empty, i = table_find(s, s->keys[k], key_hash(s->keys[k]), &empty);
        s->free[s->nfree++] = s->table[i].slot1 - 1;
        table_remove(s, (uint32_t)i);
        s->count--;
    }
    memmove(s->keys, &s->keys[extra], (size_t)limit * sizeof(u128));
    s->nkeys = limit;
    return 0;
}

static PyObject *
new_text(const char *s, uint8_t len)
{
    PyObject *text = PyUnicode_New(len, 127);
    if (text != NULL)
        memcpy(PyUnicode_1BYTE_DATA(text), s, len);
    return text;
}

static PyObject *
level_tuple(const Level *level)
{
    PyObject *p = new_text(level->p, level->plen);
    PyObject *q = p ? new_text(level->q, level->qlen) : NULL;
    if (q == NULL) {
        Py_XDECREF(p);
        return NULL;
    }
    PyObject *pair = PyTuple_New(2);
    if (pair == NULL) {
        Py_DECREF(p);
        Py_DECREF(q);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, p);
    PyTuple_SET_ITEM(pair, 1, q);
    return pair;
}

/* -- the NativeBook type ---------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    Side sides[2]; /* 0: asks, 1: bids */
    Scratch scratch[2];
    Py_ssize_t depth_limit; /* -1: none */
    PyObject *top[2];       /* the (price, qty) tuple top() last answered per side, or NULL */
} NativeBook;

static int
book_init(NativeBook *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"depth_limit", NULL};
    PyObject *limit = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:NativeBook", names, &limit))
        return -1;
    self->depth_limit = -1;
    if (limit != Py_None) {
        Py_ssize_t value = PyLong_AsSsize_t(limit);
        if (value == -1 && PyErr_Occurred())
            return -1;
        if (value < 1) {
            PyErr_Format(PyExc_ValueError, "depth_limit must be positive or None, got %zd", value);
            return -1;
        }
        self->depth_limit = value;
    }
    return 0;
}

static void
book_dealloc(NativeBook *self)
{
    side_free(&self->sides[0]);
    side_free(&self->sides[1]);
    PyMem_Free(self->scratch[0].v);
    PyMem_Free(self->scratch[1].v);
    Py_CLEAR(self->top[0]);
    Py_CLEAR(self->top[1]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}


/* Both sides are parsed into the scratch arrays before either changes. */
static PyObject *
book_change(NativeBook *self, int load)
{
    Scratch *bids = &self->scratch[1], *asks = &self->scratch[0];
    int failed = load ? (side_load(&self->sides[1], bids) < 0 || side_load(&self->sides[0], asks) < 0)
                      : (side_apply(&self->sides[1], bids) < 0 ||
                         side_apply(&self->sides[0], asks) < 0);
    if (failed)
        return NULL;
    if (self->depth_limit >= 0 && (side_trim(&self->sides[1], self->depth_limit) < 0 ||
                                   side_trim(&self->sides[0], self->depth_limit) < 0))
        return NULL;
    Py_RETURN_NONE;
}

typedef struct {
    Py_buffer view;
    int held;
    const char *s;
    Py_ssize_t n;
} Text_in;

static int
text_in(PyObject *obj, Text_in *in)
{
    in->held = 0;
    if (PyUnicode_Check(obj)) {
        in->s = PyUnicode_AsUTF8AndSize(obj, &in->n);
        return in->s == NULL ? -1 : 0;
    }
    if (PyObject_GetBuffer(obj, &in->view, PyBUF_SIMPLE) < 0)
        return -1;
    in->held = 1;
    in->s = in->view.buf;
    in->n = in->view.len;
    return 0;
}

static int side_crossed(NativeBook *self);

/* load: replace the book; crossed: answer crossed() after the change (else None). */
static PyObject *
book_json(NativeBook *self, PyObject *args, int load, int crossed)
{
    PyObject *bid_obj, *ask_obj, *result = NULL;
    Text_in b = {.held = 0}, a = {.held = 0};
    if (!PyArg_ParseTuple(args, "OO", &bid_obj, &ask_obj))
        return NULL;
    if (text_in(bid_obj, &b) == 0 && text_in(ask_obj, &a) == 0 &&
        parse_json(b.s, b.n, 1, &self->scratch[1]) == 0 &&
        parse_json(a.s, a.n, 0, &self->scratch[0]) == 0) {
        result = book_change(self, load);
        if (result != NULL && crossed) {
            Py_DECREF(result);
            result = PyBool_FromLong(side_crossed(self));
        }
    }
    if (b.held)
        PyBuffer_Release(&b.view);
    if (a.held)
        PyBuffer_Release(&a.view);
    return result;
}

static PyObject *
book_pairs(NativeBook *self, PyObject *args, int load)
{
    PyObject *bid_obj, *ask_obj, *keep_b = NULL, *keep_a = NULL, *result = NULL;
    if (!PyArg_ParseTuple(args, "OO", &bid_obj, &ask_obj))
        return NULL;
    if (parse_pairs(bid_obj, 1, &self->scratch[1], &keep_b) == 0 &&
        parse_pairs(ask_obj, 0, &self->scratch[0], &keep_a) == 0)
        result = book_change(self, load);
    Py_XDECREF(keep_b);
    Py_XDECREF(keep_a);
    return result;
}

static PyObject *
book_apply_json(NativeBook *self, PyObject *args)
{
    return book_json(self, args, 0, 0);
}

static PyObject *
book_apply_json_crossed(NativeBook *self, PyObject *args)
{
    return book_json(self, args, 0, 1);
}

static PyObject *
book_load_json(NativeBook *self, PyObject *args)
{
    return book_json(self, args, 1, 0);
}

static PyObject *
book_apply_pairs(NativeBook *self, PyObject *args)
{
    return book_pairs(self, args, 0);
}

static PyObject *
book_load_pairs(NativeBook *self, PyObject *args)
{
    return book_pairs(self, args, 1);
}

static PyObject *
book_clear(NativeBook *self, PyObject *Py_UNUSED(unused))
{
    side_free(&self->sides[0]);
    side_free(&self->sides[1]);
    Py_RETURN_NONE;
}

static PyObject *
book_best(NativeBook *self, PyObject *bid)
{
    const Level *level = side_best(&self->sides[PyObject_IsTrue(bid) == 1]);
    if (level == NULL)
        Py_RETURN_NONE;
    return level_tuple(level);
}

static PyObject *
book_levels(NativeBook *self, PyObject *args)
{
    int bid;
    PyObject *count = NULL;
    if (!PyArg_ParseTuple(args, "p|O!:levels", &bid, &PyLong_Type, &count))
        return NULL;
    /* Clamped: a count beyond the machine's range means every level. */
    Py_ssize_t n = count == NULL ? -1 : PyNumber_AsSsize_t(count, NULL);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    Side *s = &self->sides[bid];
    if (side_sort(s) < 0)
        return NULL;
    if (n < 0 || n > s->nkeys)
        n = s->nkeys;
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *pair = level_tuple(side_get(s, s->keys[s->nkeys - 1 - k]));
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, pair);
    }
    return out;
}

static PyObject *
book_qty(NativeBook *self, PyObject *args)
{
    int bid;
    PyObject *price;
    if (!PyArg_ParseTuple(args, "pU:qty", &bid, &price))
        return NULL;
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(price, &len);
    if (text == NULL)
        return NULL;
    u128 value;
    if (parse_decimal(text, len, &value) != NUM_OK || value == 0)
        Py_RETURN_NONE;
    const Level *level = side_get(&self->sides[bid], bid ? value : ~value);
    if (level == NULL)
        Py_RETURN_NONE;
    return new_text(level->q, level->qlen);
}

static PyObject *
book_count(NativeBook *self, PyObject *bid)
{
    return PyLong_FromSsize_t(self->sides[PyObject_IsTrue(bid) == 1].count);
}

/* Best bid >= best ask (both sides have a level). */
static int
side_crossed(NativeBook *self)
{
    const Level *bid = side_best(&self->sides[1]);
    const Level *ask = bid ? side_best(&self->sides[0]) : NULL;
    return ask != NULL && bid->key >= ~ask->key;
}

static PyObject *
book_crossed(NativeBook *self, PyObject *Py_UNUSED(unused))
{
    return PyBool_FromLong(side_crossed(self));
}

static int
text_is(PyObject *text, const char *s, uint8_t len)
{
    return PyUnicode_GET_LENGTH(text) == len && memcmp(PyUnicode_1BYTE_DATA(text), s, len) == 0;
}

/* The best level of one side as a (price, qty) tuple, or None (new reference). The
   tuple answered last time is answered again while that level's text is unchanged,
   so a caller can tell an unchanged top by identity. */
static PyObject *
top_of(NativeBook *self, int bid)
{
    const Level *level = side_best(&self->sides[bid]);
    if (level == NULL)
        Py_RETURN_NONE;
    PyObject *cached = self->top[bid];
    if (cached != NULL && text_is(PyTuple_GET_ITEM(cached, 0), level->p, level->plen) &&
        text_is(PyTuple_GET_ITEM(cached, 1), level->q, level->qlen))
        return Py_NewRef(cached);
    PyObject *pair = level_tuple(level);
    if (pair == NULL)
        return NULL;
    Py_XSETREF(self->top[bid], Py_NewRef(pair));
    return pair;
}

/* top(): (best bid texts or None, best ask texts or None, crossed) in one call: what
   the keeper reads after every change (one heap look per side, not three). */
static PyObject *
book_top(NativeBook *self, PyObject *Py_UNUSED(unused))
{
    PyObject *b = top_of(self, 1);
    if (b == NULL)
        return NULL;
    PyObject *a = top_of(self, 0);
    if (a == NULL) {
        Py_DECREF(b);
        return NULL;
    }
    const Level *bid = side_best(&self->sides[1]);
    const Level *ask = side_best(&self->sides[0]);
    PyObject *crossed = (bid != NULL && ask != NULL && bid->key >= ~ask->key) ? Py_True : Py_False;
    PyObject *out = PyTuple_New(3);
    if (out == NULL) {
        Py_DECREF(b);
        Py_DECREF(a);
        return NULL;
    }
    PyTuple_SET_ITEM(out, 0, b);
    PyTuple_SET_ITEM(out, 1, a);
    PyTuple_SET_ITEM(out, 2, Py_NewRef(crossed));
    return out;
}

static PyObject *
book_get_depth_limit(NativeBook *self, void *Py_UNUSED(unused))
{
    if (self->depth_limit < 0)
        Py_RETURN_NONE;
    return PyLong_FromSsize_t(self->depth_limit);
}

static PyMethodDef book_methods[] = {
    {"apply_json", (PyCFunction)book_apply_json, METH_VARARGS,
     "apply_json(bids, asks): apply the venue's JSON level arrays."},
    {"apply_json_crossed", (PyCFunction)book_apply_json_crossed, METH_VARARGS,
     "apply_json_crossed(bids, asks): apply_json, then crossed(), in one call."},
    {"load_json", (PyCFunction)book_load_json, METH_VARARGS,
     "load_json(bids, asks): replace the book from the venue's JSON level arrays."},
    {"apply_pairs", (PyCFunction)book_apply_pairs, METH_VARARGS,
     "apply_pairs(bids, asks): apply sequences of (price, qty) strings."},
    {"load_pairs", (PyCFunction)book_load_pairs, METH_VARARGS,
     "load_pairs(bids, asks): replace the book from sequences of (price, qty) strings."},
    {"clear", (PyCFunction)book_clear, METH_NOARGS, "clear(): remove every level."},
    {"best", (PyCFunction)book_best, METH_O, "best(bid): the best (price, qty) texts or None."},
    {"levels", (PyCFunction)book_levels, METH_VARARGS,
     "levels(bid, n=-1): the best n (price, qty) texts, best first (all when n < 0)."},
    {"qty", (PyCFunction)book_qty, METH_VARARGS,
     "qty(bid, price): the quantity text at price, or None."},
    {"count", (PyCFunction)book_count, METH_O, "count(bid): number of levels on that side."},
    {"crossed", (PyCFunction)book_crossed, METH_NOARGS, "crossed(): best bid >= best ask."},
    {"top", (PyCFunction)book_top, METH_NOARGS,
     "top(): (best bid texts or None, best ask texts or None, best bid >= best ask)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef book_getset[] = {
    {"depth_limit", (getter)book_get_depth_limit, NULL, "Levels kept per side (None: all).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject NativeBookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "connector.book._native.NativeBook",
    .tp_basicsize = sizeof(NativeBook),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An L2 book engine: exact fixed-point keys, the venue's text as values.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)book_init,
    .tp_dealloc = (destructor)book_dealloc,
    .tp_methods = book_methods,
    .tp_getset = book_getset,
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "connector.book._native",
    .m_doc = "The compiled L2 book engine (see connector/book/pybook.py for the interface).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    POW10[0] = 1;
    for (int k = 1; k < 39; k++)
        POW10[k] = POW10[k - 1] * 10;
    for (int k = 0; k < 39; k++)
        MAX_MANTISSA[k] = LIMIT / POW10[k];
    if (PyType_Ready(&NativeBookType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&native_module);
    if (module == NULL)
        return NULL;
    PrecisionError = PyErr_NewExceptionWithDoc(
        "connector.book._native.PrecisionError",
        "A price or quantity this engine cannot hold exactly (use the Python engine).",
        PyExc_ArithmeticError, NULL);
    if (PrecisionError == NULL || PyModule_AddObjectRef(module, "PrecisionError", PrecisionError) < 0 ||
        PyModule_AddObjectRef(module, "NativeBook", (PyObject *)&NativeBookType) < 0 ||
        PyModule_AddIntConstant(module, "TEXT_MAX", TEXT_MAX) < 0 ||
        PyModule_AddIntConstant(module, "SCALE", SCALE) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
