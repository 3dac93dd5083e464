/* Dépêche's scoring loops over a frequent term's postings, in C.
 *
 * numpy reads and writes a term's postings once per operation (gather the lengths, divide,
 * weigh, gather the sums, take the maximum, scatter...): a term in a third of a million
 * dispatches cost about three milliseconds, most of it moving temporaries. These loops read
 * each posting once. They are the float operations of the numpy code they replace, in its
 * order and precision (search/ranking.py and search/snapshot.py say which), so that a score is
 * the same to the last bit; tests/test_kernels.py holds them to it. Built at install (setup.py)
 * with floating-point contraction off: a fused multiply-add would round otherwise.
 *
 * Arrays come through the buffer protocol (numpy's own), C-contiguous; every document number
 * is checked against the array it indexes. The loops run without the interpreter lock.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    Py_buffer view;
    int held;
} Buf;

static void release(Buf *b) {
    if (b->held) {
        PyBuffer_Release(&b->view);
        b->held = 0;
    }
}

/* Take a C-contiguous buffer whose struct format is one of ``formats`` (a single character). */
static int take(PyObject *obj, Buf *b, const char *formats, int writable, const char *name) {
    int flags = PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) {
        return -1;
    }
    b->held = 1;
    const char *f = b->view.format ? b->view.format : "B";
    if (f[0] == '<' || f[0] == '=' || f[0] == '@') {
        f++;
    }
    if (b->view.ndim > 1 || strlen(f) != 1 || !strchr(formats, f[0])) {
        PyErr_Format(PyExc_TypeError, "%s: unexpected array type '%s'", name, b->view.format ? b->view.format : "B");
        release(b);
        return -1;
    }
    return 0;
}

/* Document numbers: int32, or numpy's own int64 (np.flatnonzero's). */
static int take_docs(PyObject *obj, Buf *b, const char *name) {
    if (take(obj, b, "ilq", 0, name) < 0) {
        return -1;
    }
    if (b->view.itemsize != 4 && b->view.itemsize != 8) {
        PyErr_Format(PyExc_TypeError, "%s: 32- or 64-bit document numbers", name);
        release(b);
        return -1;
    }
    return 0;
}

/* Release the buffers a function took (those it did not are skipped) and return ``result``. */
static PyObject *finish(PyObject *result, Buf *held[], int n) {
    for (int i = 0; i < n; i++) {
        release(held[i]);
    }
    return result;
}

static char kind(const Buf *b) {
    const char *f = b->view.format ? b->view.format : "B";
    return (f[0] == '<' || f[0] == '=' || f[0] == '@') ? f[1] : f[0];
}

static Py_ssize_t count(const Buf *b) {
    return b->view.len / b->view.itemsize;
}

static inline Py_ssize_t doc_at(const void *ids, int wide, Py_ssize_t j) {
    return wide ? (Py_ssize_t)((const long long *)ids)[j] : (Py_ssize_t)((const int *)ids)[j];
}

/* The error of a document number ``ids[bad]`` past the ``n`` documents of an array. */
static void out_of_range(const void *ids, int wide, Py_ssize_t bad, Py_ssize_t n) {
    PyErr_Format(PyExc_IndexError, "document %zd out of range (%zd documents)", doc_at(ids, wide, bad), n);
}

enum { TITLE = 0, LEAD = 1, BODY = 2 };

/* Postings read ahead of the one being added: its document's cache lines (a length divisor, a
 * score: one line each in arrays of a million documents, out of every cache) are asked for
 * this many postings before they are needed, so that the loads overlap instead of each
 * waiting its turn. A prefetch changes no value and never faults; the document is still
 * checked where it is read. */
#define AHEAD 16
#define ASK_READ(p) __builtin_prefetch((p), 0, 1)
#define ASK_WRITE(p) __builtin_prefetch((p), 1, 1)
/* In a loop over ``m`` postings ``dd`` into arrays of ``n`` documents: ``ASK`` for the document
 * ``a`` AHEAD postings on, when there is one in range. */
#define ASK_AHEAD(j, ASK)                                                       \
    if ((j) + AHEAD < m) {                                                      \
        Py_ssize_t a = (Py_ssize_t)dd[(j) + AHEAD];                             \
        if ((size_t)a < (size_t)n) ASK                                          \
    }

/* field_into(summary, ids, tf, norm, weight, how, has_lead, lead_ratio)
 *
 * One text field of a frequent term into ``summary`` (float32, a document each), as
 * ranking._dense_sum does with the tf snapshot.normalised gives: x = float32(tf) /
 * float32(norm[doc]);
 *   how 0 (title): the title of a document without a lead weighs as a lead, in float64,
 *                  x * (has_lead[doc] ? 1.0 : lead_ratio), then weight * that, and the
 *                  maximum with the sum so far (float64), stored as float32;
 *   how 1 (lead):  float32(weight) * x, the maximum with the sum so far;
 *   how 2 (body):  float32(weight) * x added to the sum so far.
 * ``ids`` (int32) are distinct; ``has_lead`` (bool) is read for the title only. */
static PyObject *field_into(PyObject *self, PyObject *args) {
    PyObject *o_sum, *o_ids, *o_tf, *o_norm, *o_lead;
    double weight, lead_ratio;
    int how;
    if (!PyArg_ParseTuple(args, "OOOOdiOd", &o_sum, &o_ids, &o_tf, &o_norm, &weight, &how, &o_lead, &lead_ratio)) {
        return NULL;
    }
    if (how < TITLE || how > BODY) {
        return PyErr_Format(PyExc_ValueError, "how: 0, 1 or 2, not %d", how);
    }
    Buf sum = {0}, ids = {0}, tf = {0}, norm = {0}, lead = {0};
    PyObject *result = NULL;
    if (take(o_sum, &sum, "f", 1, "summary") < 0 || take_docs(o_ids, &ids, "ids") < 0 ||
        take(o_tf, &tf, "BHI", 0, "tf") < 0 || take(o_norm, &norm, "f", 0, "norm") < 0) {
        goto done;
    }
    Py_ssize_t n = count(&sum), m = count(&ids);
    if (count(&tf) != m || count(&norm) != n) {
        PyErr_SetString(PyExc_ValueError, "ids and tf, or summary and norm, differ in length");
        goto done;
    }
    if (how == TITLE) {
        if (take(o_lead, &lead, "?", 0, "has_lead") < 0) {
            goto done;
        }
        if (count(&lead) != n) {
            PyErr_SetString(PyExc_ValueError, "summary and has_lead differ in length");
            goto done;
        }
    }
    float *s = (float *)sum.view.buf;
    const void *d = ids.view.buf;
    int wide = ids.view.itemsize == 8;
    const float *nm = (const float *)norm.view.buf;
    const unsigned char *hl = how == TITLE ? (const unsigned char *)lead.view.buf : NULL;
    const void *t = tf.view.buf;
    char k = kind(&tf);
    Py_ssize_t bad = -1;
    float w32 = (float)weight;
    Py_BEGIN_ALLOW_THREADS
    /* One loop per (document number width, frequency width, field): no branch inside but the
     * range check. */
#define FIELD_LOOP(IDT, TFT)                                                    \
    {                                                                           \
        const IDT *dd = (const IDT *)d;                                         \
        const TFT *tt = (const TFT *)t;                                         \
        if (how == TITLE) {                                                     \
            for (Py_ssize_t j = 0; j < m; j++) {                                \
                Py_ssize_t doc = (Py_ssize_t)dd[j];                             \
                ASK_AHEAD(j, { ASK_READ(nm + a); ASK_WRITE(s + a); ASK_READ(hl + a); }) \
                if ((size_t)doc >= (size_t)n) { bad = j; break; }               \
                float x = (float)tt[j] / nm[doc];                               \
                double v = weight * ((double)x * (hl[doc] ? 1.0 : lead_ratio)); \
                double was = (double)s[doc];                                    \
                s[doc] = (float)(v > was ? v : was);                            \
            }                                                                   \
        } else if (how == LEAD) {                                               \
            for (Py_ssize_t j = 0; j < m; j++) {                                \
                Py_ssize_t doc = (Py_ssize_t)dd[j];                             \
                ASK_AHEAD(j, { ASK_READ(nm + a); ASK_WRITE(s + a); })           \
                if ((size_t)doc >= (size_t)n) { bad = j; break; }               \
                float v = w32 * ((float)tt[j] / nm[doc]);                       \
                s[doc] = v > s[doc] ? v : s[doc];                               \
            }                                                                   \
        } else {                                                                \
            for (Py_ssize_t j = 0; j < m; j++) {                                \
                Py_ssize_t doc = (Py_ssize_t)dd[j];                             \
                ASK_AHEAD(j, { ASK_READ(nm + a); ASK_WRITE(s + a); })           \
                if ((size_t)doc >= (size_t)n) { bad = j; break; }               \
                s[doc] += w32 * ((float)tt[j] / nm[doc]);                       \
            }                                                                   \
        }                                                                       \
    }
#define FIELD_TF(IDT)                                                           \
    if (k == 'B') FIELD_LOOP(IDT, unsigned char)                                \
    else if (k == 'H') FIELD_LOOP(IDT, unsigned short)                          \
    else FIELD_LOOP(IDT, unsigned int)
    if (wide) {
        FIELD_TF(long long)
    } else {
        FIELD_TF(int)
    }
#undef FIELD_TF
#undef FIELD_LOOP
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        out_of_range(d, wide, bad, n);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    return finish(result, (Buf *[]){&sum, &ids, &tf, &norm, &lead}, 5);
}

/* add_saturated(scores, docs, tf, weight, k1, gathered)
 *
 * scores[doc] += float32(weight) x t / (t + float32(k1)), in float32 as
 * ranking.weighted_saturate computes it and numpy's add.at adds it: a term's scores added
 * where it is. ``docs`` (int32 or int64, distinct) and ``tf`` (float32): t is tf[j] for the
 * j-th of ``docs``, or, ``gathered``, tf[doc] (a term held densely, read at a query's
 * candidates); ``docs`` None: every document, tf having a value each (0 where the term is
 * absent, adding 0, as numpy's pass over all of them did). */
static PyObject *add_saturated(PyObject *self, PyObject *args) {
    PyObject *o_scores, *o_docs, *o_tf;
    double weight, k1;
    int gathered;
    if (!PyArg_ParseTuple(args, "OOOddp", &o_scores, &o_docs, &o_tf, &weight, &k1, &gathered)) {
        return NULL;
    }
    Buf sc = {0}, docs = {0}, tf = {0};
    PyObject *result = NULL;
    int every = o_docs == Py_None;
    if (take(o_scores, &sc, "f", 1, "scores") < 0 || take(o_tf, &tf, "f", 0, "tf") < 0 ||
        (!every && take_docs(o_docs, &docs, "docs") < 0)) {
        goto done;
    }
    Py_ssize_t n = count(&sc), m = every ? n : count(&docs);
    if (count(&tf) != (every || gathered ? n : m)) {
        PyErr_SetString(PyExc_ValueError, every || gathered ? "scores and tf differ in length" : "docs and tf differ in length");
        goto done;
    }
    float *s = (float *)sc.view.buf;
    const float *v = (const float *)tf.view.buf;
    const void *d = every ? NULL : docs.view.buf;
    int wide = !every && docs.view.itemsize == 8;
    float w = (float)weight, k = (float)k1;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    if (every) {
        /* Where the term is absent x is 0 and adds 0: no branch, and the loop vectorises
         * (testing x first cost a mispredicted branch a document on a term in half of them). */
        for (Py_ssize_t i = 0; i < n; i++) {
            float x = v[i];
            s[i] += (x / (x + k)) * w;
        }
    } else {
#define ADD_LOOP(IDT)                                                   \
        {                                                               \
            const IDT *dd = (const IDT *)d;                             \
            for (Py_ssize_t j = 0; j < m; j++) {                        \
                Py_ssize_t doc = (Py_ssize_t)dd[j];                     \
                ASK_AHEAD(j, { ASK_WRITE(s + a); if (gathered) ASK_READ(v + a); }) \
                if ((size_t)doc >= (size_t)n) { bad = j; break; }       \
                float x = v[gathered ? doc : j];                        \
                s[doc] += (x / (x + k)) * w;                            \
            }                                                           \
        }
        if (wide) ADD_LOOP(long long) else ADD_LOOP(int)
#undef ADD_LOOP
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        out_of_range(d, wide, bad, n);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    return finish(result, (Buf *[]){&sc, &docs, &tf}, 3);
}

/* One posting's frequency, of whichever width the field's are (``k``: B, H or I), as float32. */
static inline float tf_at(const Buf *tf, char k, Py_ssize_t j) {
    const void *t = tf->view.buf;
    return (float)(k == 'B' ? ((const unsigned char *)t)[j] : k == 'H' ? ((const unsigned short *)t)[j]
                                                                     : ((const unsigned int *)t)[j]);
}

/* A term's tf~ so far at a document, ``s``, with one more field's normalised tf ``x``: the
 * title's (the first, from 0; a title without a lead weighed as a lead, in float64), the
 * lead's maximum with it (float32), the body's added (float32), as ranking.combine_fields. */
static inline float with_field(int f, float s, float x, double wt, double ratio, int has_lead, float wl32, float wb32) {
    if (f == TITLE) {
        double v = wt * ((double)x * (has_lead ? 1.0 : ratio));
        return (float)(v > 0.0 ? v : 0.0);
    }
    if (f == LEAD) {
        float v = wl32 * x;
        return v > s ? v : s;
    }
    return s + wb32 * x;
}

/* A term's three text fields, as fields_at takes them (merged_fields keeps its own, written
 * out: its pass over every posting is where speed counts): each field's ids
 * (int32) and tf (any width) from ``o_postings`` (title ids, title tf, lead ids, ...), its
 * length divisors (float32, a document each) from ``o_norms``, and has_lead (bool): taken, and
 * their lengths checked (``m``: each field's postings; ``n``: the documents). */
static int take_fields(PyObject *const *o_postings, PyObject *const *o_norms, PyObject *o_lead, Buf ids[3], Buf tf[3],
                       Buf norm[3], Buf *lead, Py_ssize_t m[3], Py_ssize_t *n) {
    static const char *names[3][3] = {{"title ids", "title tf", "title norm"}, {"lead ids", "lead tf", "lead norm"},
                                      {"body ids", "body tf", "body norm"}};
    for (int f = 0; f < 3; f++) {
        if (take(o_postings[2 * f], &ids[f], "i", 0, names[f][0]) < 0 ||
            take(o_postings[2 * f + 1], &tf[f], "BHI", 0, names[f][1]) < 0 || take(o_norms[f], &norm[f], "f", 0, names[f][2]) < 0) {
            return -1;
        }
    }
    if (take(o_lead, lead, "?", 0, "has_lead") < 0) {
        return -1;
    }
    *n = count(lead);
    for (int f = 0; f < 3; f++) {
        m[f] = count(&ids[f]);
        if (count(&tf[f]) != m[f] || count(&norm[f]) != *n) {
            PyErr_Format(PyExc_ValueError, "%s: ids and tf, or norm and has_lead, differ in length", names[f][0]);
            return -1;
        }
    }
    return 0;
}

/* merged_fields(t_ids, t_tf, l_ids, l_tf, b_ids, b_tf, t_norm, l_norm, b_norm, has_lead,
 *               wt, wl, wb, lead_ratio, out_ids, out_tf) -> count
 *
 * A term's tf~ at the documents having it, its three fields' postings (int32, ascending;
 * frequencies of any width) merged in one pass: for each document of the union, the title's
 * and the lead's weighted tf as ``field_into`` takes them (their maximum, from 0) plus the
 * body's, which is what ranking.combine_fields computes from Snapshot.normalised's values.
 * The union's documents and their tf~ go to ``out_ids`` (int32) and ``out_tf`` (float32),
 * each at least as long as the three fields together; returns how many. */
static PyObject *merged_fields(PyObject *self, PyObject *args) {
    PyObject *o[16];
    double wt, wl, wb, ratio;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOddddOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8],
                          &o[9], &wt, &wl, &wb, &ratio, &o[14], &o[15])) {
        return NULL;
    }
    Buf ids[3], tf[3], norm[3], lead = {0}, oid = {0}, otf = {0};
    memset(ids, 0, sizeof ids);
    memset(tf, 0, sizeof tf);
    memset(norm, 0, sizeof norm);
    PyObject *result = NULL;
    static const char *names[3][3] = {{"title ids", "title tf", "title norm"}, {"lead ids", "lead tf", "lead norm"},
                                      {"body ids", "body tf", "body norm"}};
    for (int f = 0; f < 3; f++) {
        if (take(o[2 * f], &ids[f], "i", 0, names[f][0]) < 0 || take(o[2 * f + 1], &tf[f], "BHI", 0, names[f][1]) < 0 ||
            take(o[6 + f], &norm[f], "f", 0, names[f][2]) < 0) {
            goto done;
        }
    }
    if (take(o[9], &lead, "?", 0, "has_lead") < 0 || take(o[14], &oid, "i", 1, "out_ids") < 0 ||
        take(o[15], &otf, "f", 1, "out_tf") < 0) {
        goto done;
    }
    Py_ssize_t n = count(&lead), m[3], room = count(&oid);
    for (int f = 0; f < 3; f++) {
        m[f] = count(&ids[f]);
        if (count(&tf[f]) != m[f] || count(&norm[f]) != n) {
            PyErr_Format(PyExc_ValueError, "%s: ids and tf, or norm and has_lead, differ in length", names[f][0]);
            goto done;
        }
    }
    if (room < m[0] + m[1] + m[2] || count(&otf) != room) {
        PyErr_SetString(PyExc_ValueError, "out_ids and out_tf: as long as the fields together");
        goto done;
    }
    const int *d[3];
    const float *nm[3];
    char k[3];
    for (int f = 0; f < 3; f++) {
        d[f] = (const int *)ids[f].view.buf;
        nm[f] = (const float *)norm[f].view.buf;
        k[f] = kind(&tf[f]);
    }
    const unsigned char *hl = (const unsigned char *)lead.view.buf;
    int *out_d = (int *)oid.view.buf;
    float *out_t = (float *)otf.view.buf;
    float wl32 = (float)wl, wb32 = (float)wb;
    Py_ssize_t at[3] = {0, 0, 0}, c = 0;
    int bad = 0, unsorted = 0;
    Py_BEGIN_ALLOW_THREADS
#define MERGE_AHEAD(f, ASK)                                                     \
    if (j + AHEAD < m[f]) {                                                     \
        Py_ssize_t a = d[f][j + AHEAD];                                         \
        if ((size_t)a < (size_t)n) ASK                                          \
    }
    for (;;) {
        long long doc = -1;
        for (int f = 0; f < 3; f++) {
            if (at[f] < m[f] && (doc < 0 || d[f][at[f]] < doc)) {
                doc = d[f][at[f]];
            }
        }
        if (doc < 0) {
            break;
        }
        if (doc >= n) {
            bad = 1;
            break;
        }
        float s = 0.0f;
        double x;
        if (at[0] < m[0] && d[0][at[0]] == doc) {
            Py_ssize_t j = at[0]++;
            MERGE_AHEAD(0, { ASK_READ(nm[0] + a); ASK_READ(hl + a); })
            x = (double)((float)(k[0] == 'B' ? ((const unsigned char *)tf[0].view.buf)[j]
                                 : k[0] == 'H' ? ((const unsigned short *)tf[0].view.buf)[j]
                                               : ((const unsigned int *)tf[0].view.buf)[j]) / nm[0][doc]);
            double v = wt * (x * (hl[doc] ? 1.0 : ratio));
            s = (float)(v > 0.0 ? v : 0.0);
        }
        if (at[1] < m[1] && d[1][at[1]] == doc) {
            Py_ssize_t j = at[1]++;
            MERGE_AHEAD(1, { ASK_READ(nm[1] + a); })
            float v = wl32 * ((float)(k[1] == 'B' ? ((const unsigned char *)tf[1].view.buf)[j]
                                      : k[1] == 'H' ? ((const unsigned short *)tf[1].view.buf)[j]
                                                    : ((const unsigned int *)tf[1].view.buf)[j]) / nm[1][doc]);
            s = v > s ? v : s;
        }
        if (at[2] < m[2] && d[2][at[2]] == doc) {
            Py_ssize_t j = at[2]++;
            MERGE_AHEAD(2, { ASK_READ(nm[2] + a); })
            s = s + wb32 * ((float)(k[2] == 'B' ? ((const unsigned char *)tf[2].view.buf)[j]
                                    : k[2] == 'H' ? ((const unsigned short *)tf[2].view.buf)[j]
                                                  : ((const unsigned int *)tf[2].view.buf)[j]) / nm[2][doc]);
        }
        if (c && out_d[c - 1] >= doc) {
            unsorted = 1;
            break;
        }
        out_d[c] = (int)doc;
        out_t[c] = s;
        c++;
    }
#undef MERGE_AHEAD
    Py_END_ALLOW_THREADS
    if (bad || unsorted) {
        PyErr_SetString(bad ? PyExc_IndexError : PyExc_ValueError,
                        bad ? "document out of range" : "a field's document numbers are not ascending and distinct");
        goto done;
    }
    result = PyLong_FromSsize_t(c);
done:
    return finish(result, (Buf *[]){&ids[0], &tf[0], &norm[0], &ids[1], &tf[1], &norm[1], &ids[2], &tf[2], &norm[2],
                                     &lead, &oid, &otf}, 12);
}

/* The first of ``h[lo:m]`` (ascending) at or past ``key``, galloping from ``lo``: the documents
 * a term is read at are ascending, so each is looked for from where the last one fell. */
static Py_ssize_t gallop_from(const int *h, Py_ssize_t lo, Py_ssize_t m, long long key) {
    if (lo >= m || (long long)h[lo] >= key) {
        return lo;
    }
    Py_ssize_t below = lo, step = 1, hi;  /* h[below] < key */
    for (;;) {
        hi = below + step;
        if (hi >= m) {
            hi = m;
            break;
        }
        if ((long long)h[hi] >= key) {
            break;
        }
        below = hi;
        step <<= 1;
    }
    while (hi - below > 1) {
        Py_ssize_t mid = below + (hi - below) / 2;
        if ((long long)h[mid] < key) below = mid; else hi = mid;
    }
    return hi;
}

/* fields_at(docs, t_ids, t_tf, l_ids, l_tf, b_ids, b_tf, t_norm, l_norm, b_norm, has_lead,
 *           wt, wl, wb, lead_ratio, out_present, out_tf) -> count
 *
 * A term's tf~ at some documents (``docs``: int32 or int64), each found in its three fields'
 * postings by a gallop from where the one before fell (from the start when it comes before
 * it: ascending documents cost least), what
 * merged_fields computes at them, by the same float operations, without a pass over every
 * posting. ``out_present`` (bool) says which have the term, ``out_tf`` (float32) their tf~
 * (0 where absent); returns how many have it. */
static PyObject *fields_at(PyObject *self, PyObject *args) {
    PyObject *o[17];
    double wt, wl, wb, ratio;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOddddOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8],
                          &o[9], &o[10], &wt, &wl, &wb, &ratio, &o[15], &o[16])) {
        return NULL;
    }
    Buf docs = {0}, ids[3], tf[3], norm[3], lead = {0}, opr = {0}, otf = {0};
    memset(ids, 0, sizeof ids);
    memset(tf, 0, sizeof tf);
    memset(norm, 0, sizeof norm);
    PyObject *result = NULL;
    Py_ssize_t n, m[3];
    if (take_docs(o[0], &docs, "docs") < 0 || take_fields(o + 1, o + 7, o[10], ids, tf, norm, &lead, m, &n) < 0 ||
        take(o[15], &opr, "?", 1, "out_present") < 0 || take(o[16], &otf, "f", 1, "out_tf") < 0) {
        goto done;
    }
    Py_ssize_t q = count(&docs);
    /* Lengths taken apart from take_fields' arrays: with -fno-strict-aliasing (CPython's), a
     * store through the outputs could otherwise alias them and reload them at every step
     * (a fifth slower in merged_fields, which keeps its own). */
    const Py_ssize_t nd = n, mf[3] = {m[0], m[1], m[2]};
    if (count(&opr) != q || count(&otf) != q) {
        PyErr_SetString(PyExc_ValueError, "out_present and out_tf: one a document asked");
        goto done;
    }
    const int *d[3];
    const float *nm[3];
    char k[3];
    for (int f = 0; f < 3; f++) {
        d[f] = (const int *)ids[f].view.buf;
        nm[f] = (const float *)norm[f].view.buf;
        k[f] = kind(&tf[f]);
    }
    const unsigned char *hl = (const unsigned char *)lead.view.buf;
    const void *dv = docs.view.buf;
    int wide = docs.view.itemsize == 8;
    unsigned char *out_p = (unsigned char *)opr.view.buf;
    float *out_t = (float *)otf.view.buf;
    float wl32 = (float)wl, wb32 = (float)wb;
    Py_ssize_t at[3] = {0, 0, 0}, c = 0, bad = -1;
    long long last = -1;
    Py_BEGIN_ALLOW_THREADS
#define DOC_AT(j) (wide ? ((const long long *)dv)[j] : (long long)((const int *)dv)[j])
    for (Py_ssize_t j = 0; j < q; j++) {
        long long doc = DOC_AT(j);
        if (j + AHEAD < q) {
            long long a = DOC_AT(j + AHEAD);
            if (a >= 0 && a < nd) {
                ASK_READ(nm[0] + a); ASK_READ(nm[1] + a); ASK_READ(nm[2] + a); ASK_READ(hl + a);
            }
        }
        if (doc < 0 || doc >= nd) {
            bad = j;
            break;
        }
        if (doc < last) {
            at[0] = at[1] = at[2] = 0;  /* out of order: from the start again */
        }
        last = doc;
        int here = 0;
        float s = 0.0f;
        for (int f = 0; f < 3; f++) {
            at[f] = gallop_from(d[f], at[f], mf[f], doc);
            if (at[f] < mf[f] && d[f][at[f]] == doc) {
                here = 1;
                s = with_field(f, s, tf_at(&tf[f], k[f], at[f]) / nm[f][doc], wt, ratio, hl[doc], wl32, wb32);
            }
        }
        out_p[j] = (unsigned char)here;
        out_t[j] = s;
        c += here;
    }
#undef DOC_AT
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        out_of_range(dv, wide, bad, nd);
        goto done;
    }
    result = PyLong_FromSsize_t(c);
done:
    return finish(result, (Buf *[]){&docs, &ids[0], &tf[0], &norm[0], &ids[1], &tf[1], &norm[1], &ids[2], &tf[2],
                                     &norm[2], &lead, &opr, &otf}, 13);
}

/* mark(mask, ids)
 *
 * mask[ids] = True (``mask``: bool, a document each; ``ids``: int32 or int64): a term's
 * documents marked straight from its postings, without numpy's copy of them as 64-bit indices. */
static PyObject *mark(PyObject *self, PyObject *args) {
    PyObject *o_mask, *o_ids;
    if (!PyArg_ParseTuple(args, "OO", &o_mask, &o_ids)) {
        return NULL;
    }
    Buf mk = {0}, ids = {0};
    PyObject *result = NULL;
    if (take(o_mask, &mk, "?", 1, "mask") < 0 || take_docs(o_ids, &ids, "ids") < 0) {
        goto done;
    }
    Py_ssize_t n = count(&mk), m = count(&ids);
    unsigned char *mm = (unsigned char *)mk.view.buf;
    const void *d = ids.view.buf;
    int wide = ids.view.itemsize == 8;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
#define MARK_LOOP(IDT)                                                  \
    {                                                                   \
        const IDT *dd = (const IDT *)d;                                 \
        for (Py_ssize_t j = 0; j < m; j++) {                            \
            Py_ssize_t doc = (Py_ssize_t)dd[j];                         \
            if ((size_t)doc >= (size_t)n) { bad = j; break; }           \
            mm[doc] = 1;                                                \
        }                                                               \
    }
    if (wide) MARK_LOOP(long long) else MARK_LOOP(int)
#undef MARK_LOOP
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        out_of_range(d, wide, bad, n);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    return finish(result, (Buf *[]){&mk, &ids}, 2);
}

/* Take counts (int64, writable) and a facet's values (int32), checking each value fits. */
static int take_counts(PyObject *o_counts, Buf *counts, PyObject *o_keys, Buf *keys) {
    if (take(o_counts, counts, "lq", 1, "counts") < 0 || take(o_keys, keys, "i", 0, "key_of_pair") < 0) {
        return -1;
    }
    if (counts->view.itemsize != 8) {
        PyErr_SetString(PyExc_TypeError, "counts: 64-bit integers");
        return -1;
    }
    return 0;
}

/* count_masked(counts, mask, doc_of_pair, key_of_pair)
 *
 * counts[key_of_pair[j]] += 1 for every (document, value) pair j whose document is in
 * ``mask`` (bool, a document each): a facet's values over many matching documents, in one
 * pass over its pairs (numpy gathered every pair's mask bit, kept the values, then counted). */
static PyObject *count_masked(PyObject *self, PyObject *args) {
    PyObject *o_counts, *o_mask, *o_docs, *o_keys;
    if (!PyArg_ParseTuple(args, "OOOO", &o_counts, &o_mask, &o_docs, &o_keys)) {
        return NULL;
    }
    Buf counts = {0}, mk = {0}, docs = {0}, keys = {0};
    PyObject *result = NULL;
    if (take_counts(o_counts, &counts, o_keys, &keys) < 0 || take(o_mask, &mk, "?", 0, "mask") < 0 ||
        take_docs(o_docs, &docs, "doc_of_pair") < 0) {
        goto done;
    }
    Py_ssize_t n = count(&mk), m = count(&docs), nk = count(&counts);
    if (count(&keys) != m) {
        PyErr_SetString(PyExc_ValueError, "doc_of_pair and key_of_pair differ in length");
        goto done;
    }
    long long *c = (long long *)counts.view.buf;
    const unsigned char *in = (const unsigned char *)mk.view.buf;
    const int *k = (const int *)keys.view.buf;
    const void *d = docs.view.buf;
    int wide = docs.view.itemsize == 8;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
#define COUNT_LOOP(IDT)                                                         \
    {                                                                           \
        const IDT *dd = (const IDT *)d;                                         \
        for (Py_ssize_t j = 0; j < m; j++) {                                    \
            Py_ssize_t doc = (Py_ssize_t)dd[j];                                 \
            if ((size_t)doc >= (size_t)n) { bad = 1; break; }                   \
            if ((size_t)k[j] >= (size_t)nk) { bad = 1; break; }                 \
            c[k[j]] += in[doc] != 0; /* no branch: a third of the pairs counted */ \
        }                                                                       \
    }
    if (wide) COUNT_LOOP(long long) else COUNT_LOOP(int)
#undef COUNT_LOOP
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_IndexError, "a pair's document or value out of range");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    return finish(result, (Buf *[]){&counts, &mk, &docs, &keys}, 4);
}

/* count_docs(counts, docs, starts, key_of_pair)
 *
 * counts[key_of_pair[j]] += 1 for the pairs j of each document of ``docs`` (pairs sorted by
 * document, document d's from starts[d] to starts[d + 1], int64): a facet's values over a
 * few matching documents, reading their pairs alone. */
static PyObject *count_docs(PyObject *self, PyObject *args) {
    PyObject *o_counts, *o_docs, *o_starts, *o_keys;
    if (!PyArg_ParseTuple(args, "OOOO", &o_counts, &o_docs, &o_starts, &o_keys)) {
        return NULL;
    }
    Buf counts = {0}, docs = {0}, starts = {0}, keys = {0};
    PyObject *result = NULL;
    if (take_counts(o_counts, &counts, o_keys, &keys) < 0 || take_docs(o_docs, &docs, "docs") < 0 ||
        take(o_starts, &starts, "lq", 0, "starts") < 0) {
        goto done;
    }
    if (starts.view.itemsize != 8) {
        PyErr_SetString(PyExc_TypeError, "starts: 64-bit integers");
        goto done;
    }
    Py_ssize_t n = count(&starts) - 1, m = count(&docs), nk = count(&counts), np_ = count(&keys);
    long long *c = (long long *)counts.view.buf;
    const long long *st = (const long long *)starts.view.buf;
    const int *k = (const int *)keys.view.buf;
    const void *d = docs.view.buf;
    int wide = docs.view.itemsize == 8;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
#define DOCS_LOOP(IDT)                                                          \
    {                                                                           \
        const IDT *dd = (const IDT *)d;                                         \
        for (Py_ssize_t i = 0; i < m && !bad; i++) {                            \
            Py_ssize_t doc = (Py_ssize_t)dd[i];                                 \
            if ((size_t)doc >= (size_t)n) { bad = 1; break; }                   \
            long long a = st[doc], b = st[doc + 1];                             \
            if (a < 0 || b < a || b > np_) { bad = 1; break; }                  \
            for (long long j = a; j < b; j++) {                                 \
                if ((size_t)k[j] >= (size_t)nk) { bad = 1; break; }             \
                c[k[j]]++;                                                      \
            }                                                                   \
        }                                                                       \
    }
    if (wide) DOCS_LOOP(long long) else DOCS_LOOP(int)
#undef DOCS_LOOP
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_IndexError, "a document, its pairs or a value out of range");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    return finish(result, (Buf *[]){&counts, &docs, &starts, &keys}, 4);
}

/* dated_years(day, docs, per_year) -> (first, last)
 *
 * What the dates facet reads of some documents, in one pass over them: per_year[day / 10000]
 * += 1 for each of ``docs`` whose ``day`` (int32 or int64 YYYYMMDD, 0: undated) is positive,
 * and the first and last such day, (0, 0) when none is (facets.dated_days). ``per_year``:
 * int64, a year each. */
static PyObject *dated_years(PyObject *self, PyObject *args) {
    PyObject *o_day, *o_docs, *o_years;
    if (!PyArg_ParseTuple(args, "OOO", &o_day, &o_docs, &o_years)) {
        return NULL;
    }
    Buf day = {0}, docs = {0}, years = {0};
    PyObject *result = NULL;
    if (take(o_day, &day, "ilq", 0, "day") < 0 || take_docs(o_docs, &docs, "docs") < 0 ||
        take(o_years, &years, "lq", 1, "per_year") < 0) {
        goto done;
    }
    if ((day.view.itemsize != 4 && day.view.itemsize != 8) || years.view.itemsize != 8) {
        PyErr_SetString(PyExc_TypeError, "day: 32- or 64-bit integers; per_year: 64-bit");
        goto done;
    }
    Py_ssize_t n = count(&day), m = count(&docs), ny = count(&years);
    long long *py = (long long *)years.view.buf;
    const void *d = docs.view.buf, *dy = day.view.buf;
    int wide = docs.view.itemsize == 8, wide_day = day.view.itemsize == 8;
    long long first = 0, last = 0;
    Py_ssize_t bad = -1, bad_year = -1;
    Py_BEGIN_ALLOW_THREADS
#define DATED_LOOP(IDT, DT)                                                     \
    {                                                                           \
        const IDT *dd = (const IDT *)d;                                         \
        const DT *days = (const DT *)dy;                                        \
        for (Py_ssize_t j = 0; j < m; j++) {                                    \
            Py_ssize_t doc = (Py_ssize_t)dd[j];                                 \
            if ((size_t)doc >= (size_t)n) { bad = j; break; }                   \
            long long v = (long long)days[doc];                                 \
            if (v <= 0) continue;                                               \
            long long y = v / 10000;                                            \
            if (y >= ny) { bad_year = j; break; }                               \
            py[y]++;                                                            \
            if (!first || v < first) first = v;                                \
            if (v > last) last = v;                                             \
        }                                                                       \
    }
    if (wide) {
        if (wide_day) DATED_LOOP(long long, long long) else DATED_LOOP(long long, int)
    } else {
        if (wide_day) DATED_LOOP(int, long long) else DATED_LOOP(int, int)
    }
#undef DATED_LOOP
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        out_of_range(d, wide, bad, n);
        goto done;
    }
    if (bad_year >= 0) {
        PyErr_Format(PyExc_IndexError, "document %zd: a day past the %zd years counted", doc_at(d, wide, bad_year), ny);
        goto done;
    }
    result = Py_BuildValue("LL", first, last);
done:
    return finish(result, (Buf *[]){&day, &docs, &years}, 3);
}

/* multi_stories(docs, story_of, in_multi, out) -> int
 *
 * The stories (``story_of``, int64) of those of ``docs`` that share theirs with another
 * document (``in_multi``), in order, into ``out`` (int64, at least as long as ``docs``);
 * returns how many: what scoring.story_count needs of the matches, read once. */
static PyObject *multi_stories(PyObject *self, PyObject *args) {
    PyObject *o_docs, *o_story, *o_multi, *o_out;
    if (!PyArg_ParseTuple(args, "OOOO", &o_docs, &o_story, &o_multi, &o_out)) {
        return NULL;
    }
    Buf docs = {0}, story = {0}, multi = {0}, out = {0};
    PyObject *result = NULL;
    if (take_docs(o_docs, &docs, "docs") < 0 || take(o_story, &story, "lq", 0, "story_of") < 0 ||
        take(o_multi, &multi, "?", 0, "in_multi") < 0 || take(o_out, &out, "lq", 1, "out") < 0) {
        goto done;
    }
    if (story.view.itemsize != 8 || out.view.itemsize != 8) {
        PyErr_SetString(PyExc_TypeError, "story_of and out: 64-bit integers");
        goto done;
    }
    Py_ssize_t n = count(&story), m = count(&docs);
    if (count(&multi) != n || count(&out) < m) {
        PyErr_SetString(PyExc_ValueError, "story_of and in_multi differ in length, or out is shorter than docs");
        goto done;
    }
    const long long *st = (const long long *)story.view.buf;
    const unsigned char *mu = (const unsigned char *)multi.view.buf;
    long long *o = (long long *)out.view.buf;
    const void *d = docs.view.buf;
    int wide = docs.view.itemsize == 8;
    Py_ssize_t k = 0, bad = -1;
    Py_BEGIN_ALLOW_THREADS
#define STORY_LOOP(IDT)                                                         \
    {                                                                           \
        const IDT *dd = (const IDT *)d;                                         \
        for (Py_ssize_t j = 0; j < m; j++) {                                    \
            Py_ssize_t doc = (Py_ssize_t)dd[j];                                 \
            if ((size_t)doc >= (size_t)n) { bad = j; break; }                   \
            if (mu[doc]) o[k++] = st[doc];                                      \
        }                                                                       \
    }
    if (wide) STORY_LOOP(long long) else STORY_LOOP(int)
#undef STORY_LOOP
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        out_of_range(d, wide, bad, n);
        goto done;
    }
    result = PyLong_FromSsize_t(k);
done:
    return finish(result, (Buf *[]){&docs, &story, &multi, &out}, 4);
}

/* locate(sorted, keys, out)
 *
 * out[j] = the first index i of ``sorted`` (ascending document numbers, int32 or int64) with
 * sorted[i] >= keys[j] (int32 or int64), as numpy's searchsorted(side="left"). A term's
 * documents are spread evenly over the archive, so the answer lies close to where the key
 * falls between the first and the last: looked for there first, then galloping out to a
 * bracket and bisecting it. A binary search over a million-document term's postings costs a
 * cache miss at nearly each of its twenty steps; this one, a few lines around the guess.
 * Never more than twice the steps of a binary search, whatever the values. */
#define LOCATE_ONE(HT, h, n, key, result)                                           \
    {                                                                               \
        if ((n) == 0 || (key) <= (long long)h[0]) {                                 \
            result = 0;                                                             \
        } else if ((key) > (long long)h[(n) - 1]) {                                 \
            result = (n);                                                           \
        } else {                                                                    \
            /* h[0] < key <= h[n - 1]: the answer is in (lo, hi], h[lo] < key <= h[hi] */ \
            long long first = (long long)h[0], last = (long long)h[(n) - 1];        \
            Py_ssize_t p = (Py_ssize_t)((double)((key) - first) / (double)(last - first) * (double)((n) - 1)); \
            if (p < 0) p = 0;                                                       \
            if (p > (n) - 1) p = (n) - 1;                                           \
            Py_ssize_t lo, hi, step = 1;                                            \
            if ((long long)h[p] < (key)) {                                          \
                lo = p;                                                             \
                for (;;) {                                                          \
                    Py_ssize_t q = lo + step;                                       \
                    if (q >= (n) - 1) { hi = (n) - 1; break; }                      \
                    if ((long long)h[q] >= (key)) { hi = q; break; }                \
                    lo = q;                                                         \
                    step <<= 1;                                                     \
                }                                                                   \
            } else {                                                                \
                hi = p;                                                             \
                for (;;) {                                                          \
                    Py_ssize_t q = hi - step;                                       \
                    if (q <= 0) { lo = 0; break; }                                  \
                    if ((long long)h[q] < (key)) { lo = q; break; }                 \
                    hi = q;                                                         \
                    step <<= 1;                                                     \
                }                                                                   \
            }                                                                       \
            while (hi - lo > 1) {                                                   \
                Py_ssize_t mid = lo + (hi - lo) / 2;                                \
                if ((long long)h[mid] < (key)) lo = mid; else hi = mid;             \
            }                                                                       \
            result = hi;                                                            \
        }                                                                           \
    }

static PyObject *locate(PyObject *self, PyObject *args) {
    PyObject *o_sorted, *o_keys, *o_out;
    if (!PyArg_ParseTuple(args, "OOO", &o_sorted, &o_keys, &o_out)) {
        return NULL;
    }
    Buf srt = {0}, keys = {0}, out = {0};
    PyObject *result = NULL;
    if (take_docs(o_sorted, &srt, "sorted") < 0 || take_docs(o_keys, &keys, "keys") < 0 ||
        take(o_out, &out, "lq", 1, "out") < 0) {
        goto done;
    }
    Py_ssize_t n = count(&srt), m = count(&keys);
    if (out.view.itemsize != 8 || count(&out) != m) {
        PyErr_SetString(PyExc_ValueError, "out: 64-bit integers, one a key");
        goto done;
    }
    long long *o = (long long *)out.view.buf;
    int wide_h = srt.view.itemsize == 8, wide_k = keys.view.itemsize == 8;
    const void *hv = srt.view.buf, *kv = keys.view.buf;
    Py_BEGIN_ALLOW_THREADS
#define LOCATE_LOOP(HT)                                                             \
    {                                                                               \
        const HT *h = (const HT *)hv;                                               \
        for (Py_ssize_t j = 0; j < m; j++) {                                        \
            long long key = wide_k ? ((const long long *)kv)[j] : (long long)((const int *)kv)[j]; \
            Py_ssize_t r;                                                           \
            LOCATE_ONE(HT, h, n, key, r)                                            \
            o[j] = (long long)r;                                                    \
        }                                                                           \
    }
    if (wide_h) LOCATE_LOOP(long long) else LOCATE_LOOP(int)
#undef LOCATE_LOOP
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    return finish(result, (Buf *[]){&srt, &keys, &out}, 3);
}
#undef LOCATE_ONE

static PyMethodDef methods[] = {
    {"count_masked", count_masked, METH_VARARGS, "A facet's values counted over the documents of a mask."},
    {"count_docs", count_docs, METH_VARARGS, "A facet's values counted over some documents' own pairs."},
    {"merged_fields", merged_fields, METH_VARARGS, "A term's tf~ at the union of its fields' postings."},
    {"fields_at", fields_at, METH_VARARGS, "A term's tf~ at some documents, found in its fields' postings."},
    {"mark", mark, METH_VARARGS, "Set a bool mask at the given document numbers."},
    {"locate", locate, METH_VARARGS, "Where keys fall in ascending document numbers (searchsorted, left)."},
    {"field_into", field_into, METH_VARARGS, "One text field of a frequent term into its tf~ over every document."},
    {"add_saturated", add_saturated, METH_VARARGS, "Add a term's saturated, weighted tf~ to the scores where it is."},
    {"dated_years", dated_years, METH_VARARGS, "Documents per year, first and last day, of some documents."},
    {"multi_stories", multi_stories, METH_VARARGS, "The stories of the documents that share theirs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_kernels", .m_doc = "Scoring loops over postings (see the source).",
    .m_size = -1, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__kernels(void) {
    return PyModule_Create(&module);
}
