/* The recorder's table of live tasks for the C hot path: task address -> record.
 *
 * Included by _hotpath.c (one translation unit: the hot path calls these inline).
 *
 * Why not a dict keyed by id(task): every step of every task looked its record up, and every
 * task created and finished inserted and deleted it. With a dict that meant a Python int made
 * from the address for each of those (made, hashed, compared, freed), and a lookup that
 * starts from the address's low bits, which pymalloc's alignment leaves all zero, so probes
 * wander. For 100,000 tasks that each await sleep(0) those dict operations were about 190
 * million instructions of the program's run (valgrind's cachegrind, against the plain run)
 * and a sixth of the extra data-cache misses. Here a lookup is a multiply and, mostly, one
 * probe of a flat array; nothing is allocated per task.
 *
 * From Python the table reads as a mapping keyed by ``id(task)`` with the operations the
 * recorder, its reports and the sender use (``get``, ``pop``, ``values``, ``keys``,
 * ``items``, ``in``, ``len``, iteration, ``[key]``, ``[key] = record``, ``del [key]``).
 * Iteration and the lists copy first: the sender's thread reads while the loop's thread writes, and a
 * copy is made without running any Python code, so under the GIL it is one consistent view.
 *
 * Linear probing with backward-shift deletion (no tombstones: 100,000 inserts and deletes
 * leave the table as clean as they found it), Fibonacci hashing of the address, grown at
 * three quarters full (four slots share a cache line, so a longer probe mostly stays in it,
 * and a smaller table stays in cache more) and shrunk at an eighth, so its memory falls back
 * after a burst. A value is
 * released only once the table is consistent again: releasing a record can run arbitrary
 * code (its loop state's last reference), which may use the table. */

#include <stdint.h>

typedef struct {
    uintptr_t key;   /* the task's address; 0: empty */
    PyObject *value; /* the record (strong) */
} LiveSlot;

typedef struct {
    PyObject_HEAD
    LiveSlot *slots;   /* NULL while empty and never grown */
    size_t mask;       /* capacity - 1 (a power of two) */
    int shift;         /* 64 - log2(capacity): Fibonacci hashing keeps the top bits */
    Py_ssize_t used;
} LiveObject;

static PyTypeObject Live_Type;

#define LIVE_MIN 64

static inline size_t
live_home(const LiveObject *table, uintptr_t key)
{
    return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ULL) >> table->shift);
}

/* The slot holding key, or NULL. */
static inline LiveSlot *
live_find(const LiveObject *table, uintptr_t key)
{
    if (table->slots == NULL) {
        return NULL;
    }
    size_t i = live_home(table, key);
    for (;;) {
        LiveSlot *slot = &table->slots[i];
        if (slot->key == key) {
            return slot;
        }
        if (slot->key == 0) {
            return NULL;
        }
        i = (i + 1) & table->mask;
    }
}

/* Start loading the slot where a task's lookup begins (hot_run: while other loads wait). */
static inline void
live_prefetch(const LiveObject *table, const void *task)
{
    if (table->slots != NULL) {
        __builtin_prefetch(&table->slots[live_home(table, (uintptr_t)task)]);
    }
}

/* The record for a task's address (borrowed), or NULL (no error set). */
static inline PyObject *
live_get(const LiveObject *table, const void *task)
{
    LiveSlot *slot = live_find(table, (uintptr_t)task);
    return slot != NULL ? slot->value : NULL;
}

/* Rehash into ``capacity`` slots (a power of two >= LIVE_MIN); -1 with MemoryError. */
static int
live_resize(LiveObject *table, size_t capacity)
{
    LiveSlot *slots = PyMem_Calloc(capacity, sizeof(LiveSlot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    LiveSlot *old = table->slots;
    size_t old_capacity = old != NULL ? table->mask + 1 : 0;
    int bits = 0;
    while (((size_t)1 << bits) < capacity) {
        bits++;
    }
    table->slots = slots;
    table->mask = capacity - 1;
    table->shift = 64 - bits;
    for (size_t j = 0; j < old_capacity; j++) {
        if (old[j].key != 0) {
            size_t i = live_home(table, old[j].key);
            while (slots[i].key != 0) {
                i = (i + 1) & table->mask;
            }
            slots[i] = old[j];
        }
    }
    PyMem_Free(old);
    return 0;
}

/* table[task] = value (borrowed); the value replaced, if any, is returned to be released by
 * the caller (a new reference it owns), else NULL. -1 in *error on MemoryError. */
static PyObject *
live_put(LiveObject *table, const void *task, PyObject *value, int *error)
{
    uintptr_t key = (uintptr_t)task;
    *error = 0;
    LiveSlot *slot = live_find(table, key);
    if (slot != NULL) {
        PyObject *old = slot->value;
        slot->value = Py_NewRef(value);
        return old;
    }
    size_t capacity = table->slots != NULL ? table->mask + 1 : 0;
    if ((size_t)(table->used + 1) * 4 > capacity * 3) {
        if (live_resize(table, capacity != 0 ? capacity * 2 : LIVE_MIN) < 0) {
            *error = -1;
            return NULL;
        }
    }
    size_t i = live_home(table, key);
    while (table->slots[i].key != 0) {
        i = (i + 1) & table->mask;
    }
    table->slots[i].key = key;
    table->slots[i].value = Py_NewRef(value);
    table->used++;
    return NULL;
}

/* Remove a task's entry: its value (a reference the caller now owns), or NULL if absent. */
static PyObject *
live_take(LiveObject *table, const void *task)
{
    LiveSlot *slot = live_find(table, (uintptr_t)task);
    if (slot == NULL) {
        return NULL;
    }
    PyObject *value = slot->value;
    LiveSlot *slots = table->slots;
    size_t mask = table->mask;
    size_t hole = (size_t)(slot - slots);
    size_t j = hole;
    /* Backward shift: an entry after the hole moves into it unless its home lies
     * (cyclically) after the hole and at or before the entry's own place. */
    for (;;) {
        j = (j + 1) & mask;
        if (slots[j].key == 0) {
            break;
        }
        size_t home = live_home(table, slots[j].key);
        int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            slots[hole] = slots[j];
            hole = j;
        }
    }
    slots[hole].key = 0;
    slots[hole].value = NULL;
    table->used--;
    size_t capacity = mask + 1;
    if (capacity > LIVE_MIN && (size_t)table->used * 8 < capacity) {
        /* Shrinking can only fail for memory; the table stays valid (just larger). */
        if (live_resize(table, capacity / 2) < 0) {
            PyErr_Clear();
        }
    }
    return value;
}

/* -- the mapping seen from Python ------------------------------------------------------- */

/* A Python key (an int: id(task)) as an address; 0 with TypeError/OverflowError set. */
static uintptr_t
live_key(PyObject *key)
{
    if (!PyLong_Check(key)) {
        PyErr_Format(PyExc_TypeError, "live tasks are keyed by id(task), not %.100s",
                     Py_TYPE(key)->tp_name);
        return 0;
    }
    void *address = PyLong_AsVoidPtr(key);
    if (address == NULL && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_KeyError, "0");
    }
    return (uintptr_t)address;
}

/* A Python key as an address, or 0 (no error set) for anything that cannot be a task's id:
 * for the lookups that answer "not there" rather than raise (``in``, ``get``, ``pop``). */
static uintptr_t
live_id(PyObject *key)
{
    if (!PyLong_Check(key)) {
        return 0;
    }
    void *address = PyLong_AsVoidPtr(key);
    if (address == NULL && PyErr_Occurred()) {
        PyErr_Clear();  /* out of range: not an id */
    }
    return (uintptr_t)address;
}

static PyObject *
Live_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "LiveTable() takes no arguments");
        return NULL;
    }
    LiveObject *table = (LiveObject *)type->tp_alloc(type, 0);
    if (table != NULL) {
        table->slots = NULL;
        table->mask = 0;
        table->shift = 64;
        table->used = 0;
    }
    return (PyObject *)table;
}

/* Empty the table; the values are released once it is empty. */
static void
live_clear_all(LiveObject *table)
{
    LiveSlot *slots = table->slots;
    size_t capacity = slots != NULL ? table->mask + 1 : 0;
    table->slots = NULL;
    table->mask = 0;
    table->shift = 64;
    table->used = 0;
    for (size_t j = 0; j < capacity; j++) {
        Py_XDECREF(slots[j].value);
    }
    PyMem_Free(slots);
}

static void
Live_dealloc(LiveObject *table)
{
    live_clear_all(table);
    Py_TYPE(table)->tp_free((PyObject *)table);
}

static Py_ssize_t
Live_length(LiveObject *table)
{
    return table->used;
}

static PyObject *
Live_subscript(LiveObject *table, PyObject *key)
{
    uintptr_t address = live_key(key);
    if (address == 0) {
        return NULL;
    }
    PyObject *value = live_get(table, (void *)address);
    if (value == NULL) {
        PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    return Py_NewRef(value);
}

static int
Live_ass_subscript(LiveObject *table, PyObject *key, PyObject *value)
{
    uintptr_t address = live_key(key);
    if (address == 0) {
        return -1;
    }
    PyObject *old;
    if (value == NULL) {
        old = live_take(table, (void *)address);
        if (old == NULL) {
            PyErr_SetObject(PyExc_KeyError, key);
            return -1;
        }
    }
    else {
        int error;
        old = live_put(table, (void *)address, value, &error);
        if (error < 0) {
            return -1;
        }
    }
    Py_XDECREF(old);
    return 0;
}

static int
Live_contains(LiveObject *table, PyObject *key)
{
    uintptr_t address = live_id(key);
    return address != 0 && live_get(table, (void *)address) != NULL;
}

/* A list of the keys (as ints) or of the values, in table order. The list is made first (its
 * allocation may run the garbage collector, and so Python code); filling it runs none. */
static PyObject *
live_list(LiveObject *table, int keys)
{
    for (;;) {
        Py_ssize_t used = table->used;
        PyObject *list = PyList_New(used);
        if (list == NULL) {
            return NULL;
        }
        if (used != table->used) {  /* the collector ran code that changed the table */
            Py_DECREF(list);
            continue;
        }
        Py_ssize_t n = 0;
        size_t capacity = table->slots != NULL ? table->mask + 1 : 0;
        for (size_t j = 0; j < capacity && n < used; j++) {
            LiveSlot *slot = &table->slots[j];
            if (slot->key == 0) {
                continue;
            }
            PyObject *item = keys ? PyLong_FromVoidPtr((void *)slot->key)
                                  : Py_NewRef(slot->value);
            if (item == NULL) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, n++, item);
        }
        return list;
    }
}

/* A list of (id, record) pairs: the pairs are copied out first (with references), since
 * making each tuple may run the collector and the table may change meanwhile. */
static PyObject *
Live_items(LiveObject *table, PyObject *Py_UNUSED(ignored))
{
    Py_ssize_t used = table->used;
    LiveSlot *copy = PyMem_Malloc((size_t)(used > 0 ? used : 1) * sizeof(LiveSlot));
    if (copy == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t n = 0;
    size_t capacity = table->slots != NULL ? table->mask + 1 : 0;
    for (size_t j = 0; j < capacity && n < used; j++) {
        if (table->slots[j].key != 0) {
            copy[n].key = table->slots[j].key;
            copy[n].value = Py_NewRef(table->slots[j].value);
            n++;
        }
    }
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; i < n && list != NULL; i++) {
        PyObject *key = PyLong_FromVoidPtr((void *)copy[i].key);
        PyObject *pair = key != NULL ? PyTuple_Pack(2, key, copy[i].value) : NULL;
        Py_XDECREF(key);
        if (pair == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, pair);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(copy[i].value);
    }
    PyMem_Free(copy);
    return list;
}

static PyObject *
Live_iter(LiveObject *table)
{
    PyObject *keys = live_list(table, 1);
    if (keys == NULL) {
        return NULL;
    }
    PyObject *iterator = PyObject_GetIter(keys);
    Py_DECREF(keys);
    return iterator;
}

static PyObject *
Live_keys(LiveObject *table, PyObject *Py_UNUSED(ignored))
{
    return live_list(table, 1);
}

static PyObject *
Live_values(LiveObject *table, PyObject *Py_UNUSED(ignored))
{
    return live_list(table, 0);
}

/* get(key, default=None) */
static PyObject *
Live_get_method(LiveObject *table, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
        return NULL;
    }
    PyObject *fallback = nargs == 2 ? args[1] : Py_None;
    uintptr_t address = live_id(args[0]);
    PyObject *value = address != 0 ? live_get(table, (void *)address) : NULL;
    return Py_NewRef(value != NULL ? value : fallback);
}

/* pop(key[, default]) */
static PyObject *
Live_pop(LiveObject *table, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "pop(key[, default])");
        return NULL;
    }
    uintptr_t address = live_id(args[0]);
    PyObject *value = address != 0 ? live_take(table, (void *)address) : NULL;
    if (value != NULL) {
        return value;
    }
    if (nargs == 2) {
        return Py_NewRef(args[1]);
    }
    PyErr_SetObject(PyExc_KeyError, args[0]);
    return NULL;
}

static PyObject *
Live_clear(LiveObject *table, PyObject *Py_UNUSED(ignored))
{
    live_clear_all(table);
    Py_RETURN_NONE;
}

/* The table's own memory (its slots), for memory accounting and for the tests that check
 * it shrinks after a burst. */
static PyObject *
Live_sizeof(LiveObject *table, PyObject *Py_UNUSED(ignored))
{
    size_t capacity = table->slots != NULL ? table->mask + 1 : 0;
    return PyLong_FromSize_t(Py_TYPE(table)->tp_basicsize + capacity * sizeof(LiveSlot));
}

static PyObject *
Live_repr(LiveObject *table)
{
    return PyUnicode_FromFormat("<LiveTable of %zd tasks>", table->used);
}

static PyMappingMethods Live_as_mapping = {
    .mp_length = (lenfunc)Live_length,
    .mp_subscript = (binaryfunc)Live_subscript,
    .mp_ass_subscript = (objobjargproc)Live_ass_subscript,
};

static PySequenceMethods Live_as_sequence = {
    .sq_contains = (objobjproc)Live_contains,
};

static PyMethodDef Live_methods[] = {
    {"get", (PyCFunction)(void (*)(void))Live_get_method, METH_FASTCALL,
     "get(key, default=None): the record of the task with id key."},
    {"pop", (PyCFunction)(void (*)(void))Live_pop, METH_FASTCALL,
     "pop(key[, default]): remove and return the record of the task with id key."},
    {"keys", (PyCFunction)Live_keys, METH_NOARGS, "A list of the live tasks' ids."},
    {"values", (PyCFunction)Live_values, METH_NOARGS, "A list of the live tasks' records."},
    {"items", (PyCFunction)Live_items, METH_NOARGS, "A list of (id, record) pairs."},
    {"clear", (PyCFunction)Live_clear, METH_NOARGS, "Forget every live task."},
    {"__sizeof__", (PyCFunction)Live_sizeof, METH_NOARGS, "Its size in memory, in bytes."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Live_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "loopscope.tasks.agent._hotpath.LiveTable",
    .tp_doc = "The live tasks' records by id(task): the C hot path's table (live_table.h).",
    .tp_basicsize = sizeof(LiveObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Live_new,
    .tp_dealloc = (destructor)Live_dealloc,
    .tp_repr = (reprfunc)Live_repr,
    .tp_as_mapping = &Live_as_mapping,
    .tp_as_sequence = &Live_as_sequence,
    .tp_iter = (getiterfunc)Live_iter,
    .tp_methods = Live_methods,
};
