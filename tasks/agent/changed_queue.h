/* The recorder's queue of changed tasks for the C hot path (``Recorder.dirty``): records in
 * the order they first changed since the sender last looked, each once.
 *
 * Included by _hotpath.c after its record type (the queue is linked through the records).
 *
 * Why not the dict keyed by seq the pure-Python path keeps: every task went through it three
 * times (queued when made, queued again when it finished, looked for when retention dropped
 * it), each a hash of its seq (an int object long out of cache by the third) and a probe of a
 * table of up to 20,000 entries, and the table itself was a megabyte more for the program's
 * caches to hold. Here the queue is two pointers in each record: queueing, leaving and taking
 * are a few pointer writes on the record itself, which the step is writing anyway.
 *
 * From Python it takes what the recorder, its reports and the sender ask of the dict:
 * ``queue[seq] = record`` (queued at the end unless queued already: its place is kept, as a
 * dict keeps an updated key's), ``len``, ``bool``, ``clear()``, iteration over the seqs and
 * ``queue[seq]`` (walks: for inspection, tests), and two of its own:
 * ``take(limit)`` (the oldest ``limit`` records, each marked taken: ``dirty`` false, ``sent``
 * true) and ``discard(record)`` (out of the queue if it is in it). Only C records go in. */

typedef struct {
    PyObject_HEAD
    RecordObject *head;  /* oldest (strong references, through the records' links) */
    RecordObject *tail;
    Py_ssize_t size;
} ChangedObject;

static PyTypeObject Changed_Type;

/* Queue a record at the end, unless it is queued already. */
static inline void
changed_add(ChangedObject *queue, RecordObject *record)
{
    if (record->queued) {
        return;
    }
    record->queued = 1;
    record->changed_next = NULL;
    record->changed_prev = queue->tail;
    if (queue->tail != NULL) {
        queue->tail->changed_next = record;
    }
    else {
        queue->head = record;
    }
    queue->tail = record;
    queue->size++;
    Py_INCREF(record);
}

/* Unlink a queued record; the queue's reference passes to the caller. */
static inline void
changed_unlink(ChangedObject *queue, RecordObject *record)
{
    if (record->changed_prev != NULL) {
        record->changed_prev->changed_next = record->changed_next;
    }
    else {
        queue->head = record->changed_next;
    }
    if (record->changed_next != NULL) {
        record->changed_next->changed_prev = record->changed_prev;
    }
    else {
        queue->tail = record->changed_prev;
    }
    record->changed_prev = record->changed_next = NULL;
    record->queued = 0;
    queue->size--;
}

/* Out of the queue, if it is in it (the caller holds its own reference to the record). */
static inline void
changed_discard(ChangedObject *queue, RecordObject *record)
{
    if (record->queued) {
        changed_unlink(queue, record);
        Py_DECREF(record);
    }
}

static PyObject *
Changed_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "ChangedQueue() takes no arguments");
        return NULL;
    }
    ChangedObject *queue = (ChangedObject *)type->tp_alloc(type, 0);
    if (queue != NULL) {
        queue->head = queue->tail = NULL;
        queue->size = 0;
    }
    return (PyObject *)queue;
}

/* Empty the queue (nothing marked). Every record is unlinked first and released after, so
 * code run by a release (a record's last reference: its loop state's, its weak references'
 * callbacks) finds the queue empty and consistent. -1 with MemoryError (nothing changed). */
static int
changed_clear(ChangedObject *queue)
{
    Py_ssize_t count = queue->size;
    if (count == 0) {
        return 0;
    }
    RecordObject **records = PyMem_Malloc((size_t)count * sizeof(*records));
    if (records == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t n = 0;
    RecordObject *record = queue->head;
    while (record != NULL && n < count) {
        RecordObject *next = record->changed_next;
        record->changed_prev = record->changed_next = NULL;
        record->queued = 0;
        records[n++] = record;
        record = next;
    }
    queue->head = queue->tail = NULL;
    queue->size = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(records[i]);
    }
    PyMem_Free(records);
    return 0;
}

static void
Changed_dealloc(ChangedObject *queue)
{
    if (changed_clear(queue) < 0) {  /* no memory for the list: one at a time */
        PyErr_Clear();
        while (queue->head != NULL) {
            RecordObject *record = queue->head;
            changed_unlink(queue, record);
            Py_DECREF(record);
        }
    }
    Py_TYPE(queue)->tp_free((PyObject *)queue);
}

static Py_ssize_t
Changed_length(ChangedObject *queue)
{
    return queue->size;
}

/* queue[seq] = record: queued unless it is already (its place kept). */
static int
Changed_ass_subscript(ChangedObject *queue, PyObject *key, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "take records with take() or discard(), not del");
        return -1;
    }
    if (!Py_IS_TYPE(value, &Record_Type)) {
        PyErr_Format(PyExc_TypeError, "only C task records are queued here, not %.100s",
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    int same = PyObject_RichCompareBool(key, RECORD(value)->seq, Py_EQ);
    if (same <= 0) {
        if (same == 0) {
            PyErr_SetString(PyExc_ValueError, "a record is queued under its own seq");
        }
        return -1;
    }
    changed_add(queue, RECORD(value));
    return 0;
}

/* take(limit): the oldest ``limit`` records, out of the queue, each marked taken. */
static PyObject *
Changed_take(ChangedObject *queue, PyObject *arg)
{
    Py_ssize_t limit = PyLong_AsSsize_t(arg);
    if (limit == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *taken = PyList_New(0);  /* made first: it may run the collector */
    if (taken == NULL) {
        return NULL;
    }
    while (limit-- > 0 && queue->head != NULL) {
        RecordObject *record = queue->head;
        if (PyList_Append(taken, (PyObject *)record) < 0) {  /* runs no Python code */
            Py_DECREF(taken);
            return NULL;
        }
        changed_unlink(queue, record);
        record->dirty = 0;
        record->sent = 1;
        Py_DECREF(record);  /* the queue's reference: the list holds one */
    }
    return taken;
}

static PyObject *
Changed_discard(ChangedObject *queue, PyObject *record)
{
    if (Py_IS_TYPE(record, &Record_Type)) {
        changed_discard(queue, RECORD(record));
    }
    Py_RETURN_NONE;
}

static PyObject *
Changed_clear_method(ChangedObject *queue, PyObject *Py_UNUSED(ignored))
{
    if (changed_clear(queue) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The queued records' seqs, oldest first (a copy: for inspection, as a dict's keys). */
static PyObject *
Changed_iter(ChangedObject *queue)
{
    PyObject *seqs = PyList_New(0);
    if (seqs == NULL) {
        return NULL;
    }
    Py_ssize_t left = queue->size;
    for (RecordObject *each = queue->head; each != NULL && left-- > 0; each = each->changed_next) {
        if (PyList_Append(seqs, each->seq) < 0) {
            Py_DECREF(seqs);
            return NULL;
        }
    }
    PyObject *iterator = PyObject_GetIter(seqs);
    Py_DECREF(seqs);
    return iterator;
}

/* queue[seq]: the queued record of that seq (a walk: for inspection, not for the hot path). */
static PyObject *
Changed_subscript(ChangedObject *queue, PyObject *key)
{
    for (RecordObject *each = queue->head; each != NULL; each = each->changed_next) {
        int same = PyObject_RichCompareBool(key, each->seq, Py_EQ);
        if (same < 0) {
            return NULL;
        }
        if (same) {
            return Py_NewRef((PyObject *)each);
        }
    }
    PyErr_SetObject(PyExc_KeyError, key);
    return NULL;
}

static PyObject *
Changed_repr(ChangedObject *queue)
{
    return PyUnicode_FromFormat("<ChangedQueue of %zd tasks>", queue->size);
}

static PyMappingMethods Changed_as_mapping = {
    .mp_length = (lenfunc)Changed_length,
    .mp_subscript = (binaryfunc)Changed_subscript,
    .mp_ass_subscript = (objobjargproc)Changed_ass_subscript,
};

static PyMethodDef Changed_methods[] = {
    {"take", (PyCFunction)Changed_take, METH_O,
     "take(limit): the oldest limit records, out of the queue, marked taken."},
    {"discard", (PyCFunction)Changed_discard, METH_O,
     "discard(record): out of the queue if it is in it."},
    {"clear", (PyCFunction)Changed_clear_method, METH_NOARGS,
     "Empty the queue (the records are not marked taken)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Changed_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "loopscope.tasks.agent._hotpath.ChangedQueue",
    .tp_doc = "The changed tasks' records, oldest first (changed_queue.h).",
    .tp_basicsize = sizeof(ChangedObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Changed_new,
    .tp_dealloc = (destructor)Changed_dealloc,
    .tp_repr = (reprfunc)Changed_repr,
    .tp_as_mapping = &Changed_as_mapping,
    .tp_iter = (getiterfunc)Changed_iter,
    .tp_methods = Changed_methods,
};
