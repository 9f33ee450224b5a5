/* Reading a collections.deque's items in place, without taking a reference.
 *
 * Included by _hotpath.c, for its prefetching only (look_ahead: the loop's ready queue;
 * evict_ahead: the kept finished tasks). Why not deque[i]: indexing takes a reference, which
 * writes to the item, and the items wanted are the ones not yet in the processor's caches:
 * the write waited for memory, the very wait the prefetch is there to start early. A prefetch
 * needs only the item's address.
 *
 * The deque's layout is CPython's own (Modules/_collectionsmodule.c: blocks of 64 items
 * linked both ways, the left block and the index in it of the first item), not a public API.
 * So it is checked before use, once per configuration (``deque_peek_check``): a deque made for
 * it, with items across several blocks and its left edge moved, must read item for item as
 * its own indexing reads it. If not, ``deque_peek_ok`` stays 0 and nothing is prefetched. */

#define DQ_BLOCKLEN 64

typedef struct dq_block {
    struct dq_block *leftlink;
    PyObject *data[DQ_BLOCKLEN];
    struct dq_block *rightlink;
} dq_block;

typedef struct {
    PyObject_VAR_HEAD
    dq_block *leftblock;
    dq_block *rightblock;
    Py_ssize_t leftindex;
    Py_ssize_t rightindex;
} dq_head;

static int deque_peek_ok = 0;

/* Item ``index`` of a deque (borrowed: valid until Python code runs), or NULL if out of
 * range. Only with deque_peek_ok, and for near-left indices (it walks blocks). */
static inline PyObject *
deque_peek(PyObject *deque, Py_ssize_t index)
{
    if (index < 0 || index >= Py_SIZE(deque)) {
        return NULL;
    }
    const dq_head *head = (const dq_head *)deque;
    const dq_block *block = head->leftblock;
    Py_ssize_t at = head->leftindex + index;
    while (at >= DQ_BLOCKLEN) {
        block = block->rightlink;
        at -= DQ_BLOCKLEN;
    }
    return block->data[at];
}

/* Ask for the memory holding item ``index`` (its slot in the deque, not the item), or, past
 * the left block, for the link to the next block: the queue's own memory, written when the
 * items were queued, is as far out of cache as they are. */
static inline void
deque_prefetch(PyObject *deque, Py_ssize_t index)
{
    const dq_head *head = (const dq_head *)deque;
    Py_ssize_t at = head->leftindex + index;
    if (at < DQ_BLOCKLEN) {
        __builtin_prefetch(&head->leftblock->data[at]);
    }
    else {
        __builtin_prefetch(&head->leftblock->rightlink);
    }
}

/* Whether deque_peek reads deques of this type right: 1, 0, or -1 with an error set. Only
 * Pythons whose layout is known are tried (a wrong layout could not be read safely). */
static int
deque_peek_check(PyTypeObject *type)
{
#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030E0000
    (void)type;
    return 0;
#endif
    PyObject *deque = PyObject_CallNoArgs((PyObject *)type);
    if (deque == NULL) {
        return -1;
    }
    int ok = PyType_IsSubtype(Py_TYPE(deque), type) && Py_SIZE(deque) == 0;
    for (long i = 0; ok && i < 300; i++) {
        PyObject *item = PyLong_FromLong(100000 + i);  /* distinct objects */
        PyObject *done = item != NULL ? PyObject_CallMethod(deque, "append", "O", item) : NULL;
        Py_XDECREF(item);
        if (done == NULL) {
            Py_DECREF(deque);
            return -1;
        }
        Py_DECREF(done);
    }
    for (int i = 0; ok && i < 37; i++) {  /* move the left edge into the first block */
        PyObject *gone = PyObject_CallMethod(deque, "popleft", NULL);
        if (gone == NULL) {
            Py_DECREF(deque);
            return -1;
        }
        Py_DECREF(gone);
    }
    ok = ok && Py_SIZE(deque) == 263;
    for (Py_ssize_t i = 0; ok && i < Py_SIZE(deque); i++) {
        PyObject *item = PySequence_GetItem(deque, i);
        if (item == NULL) {
            Py_DECREF(deque);
            return -1;
        }
        ok = deque_peek(deque, i) == item;
        Py_DECREF(item);
    }
    Py_DECREF(deque);
    return ok;
}
