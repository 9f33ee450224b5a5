/* The agent's look into asyncio's registry of tasks, in C: the tasks of given ids.
 *
 * Why: the sender's thread turns a live record (it holds ``id(task)``, never the task) back
 * into its task to read its state, name and await chain. In Python that meant copying the
 * whole registry (``list(asyncio.tasks._all_tasks)``, a WeakSet) into a dict for every batch:
 * 5 ms for 20,000 live tasks, under the GIL the program needs, and a walk over 20,000 weak
 * references that pushed the program's own objects out of the processor's caches.
 *
 * Here the registry's hash table is read in place: a weak reference to a task is stored with
 * its task's hash, which for a task is a function of its address (``_Py_HashPointer``), so the
 * table's entries are matched against the wanted ids by hash first, and only a match is
 * followed to its task (and checked by address). An id still unfound after that (a task whose
 * class has its own ``__hash__``, or one already collected) costs a second pass that follows
 * every entry. No Python code runs while the table is read (no allocation, no call), so the
 * program's thread cannot change it meanwhile; the dict of results is built after. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    void *address;      /* the task's address: its id */
    Py_hash_t hash;     /* _Py_HashPointer(address): what a set stores for it */
    PyObject *task;     /* found: a new reference; NULL until then */
} Wanted;

/* find(registry, ids) -> {id: task}: the tasks among ``ids`` that ``registry`` holds, where
 * ``registry`` is a set of weak references to tasks (a WeakSet's ``data``) or of tasks. */
static PyObject *
find(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyAnySet_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "find(registry: set, ids: iterable of int)");
        return NULL;
    }
    PyObject *registry = args[0];
    PyObject *ids = PySequence_Fast(args[1], "find: ids must be iterable");
    if (ids == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(ids);
    PyObject *found = PyDict_New();
    if (found == NULL || n == 0) {
        Py_DECREF(ids);
        return found;
    }
    /* An open-addressing index of the wanted hashes, at most half full. */
    Py_ssize_t slots = 8;
    while (slots < 2 * n) {
        slots *= 2;
    }
    Wanted *wanted = PyMem_Calloc((size_t)n, sizeof(Wanted));
    Py_ssize_t *index = PyMem_Malloc((size_t)slots * sizeof(Py_ssize_t));
    if (wanted == NULL || index == NULL) {
        PyMem_Free(wanted);
        PyMem_Free(index);
        Py_DECREF(ids);
        Py_DECREF(found);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t slot = 0; slot < slots; slot++) {
        index[slot] = -1;
    }
    Py_ssize_t mask = slots - 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        void *address = PyLong_AsVoidPtr(PySequence_Fast_GET_ITEM(ids, i));
        if (address == NULL && PyErr_Occurred()) {
            goto fail;
        }
        wanted[i].address = address;
        wanted[i].hash = _Py_HashPointer(address);
        Py_ssize_t slot = (Py_ssize_t)((size_t)wanted[i].hash & (size_t)mask);
        while (index[slot] >= 0) {
            slot = (slot + 1) & mask;
        }
        index[slot] = i;
    }
    /* The registry's table, read in place: nothing below runs Python code. First by the
     * hashes stored in the table (no entry followed unless its hash matches); then, for a
     * task whose class hashes it otherwise, by following every entry to its task. */
    Py_ssize_t left = n;
    for (int by_address = 0; by_address < 2 && left > 0; by_address++) {
        Py_ssize_t pos = 0;
        PyObject *key;
        Py_hash_t hash;
        while (left > 0 && _PySet_NextEntry(registry, &pos, &key, &hash)) {
            PyObject *task = NULL;
            if (by_address) {
                task = PyWeakref_Check(key) ? PyWeakref_GET_OBJECT(key) : key;
                hash = _Py_HashPointer(task);
            }
            Py_ssize_t slot = (Py_ssize_t)((size_t)hash & (size_t)mask);
            for (Py_ssize_t i; (i = index[slot]) >= 0; slot = (slot + 1) & mask) {
                if (wanted[i].hash != hash || wanted[i].task != NULL) {
                    continue;
                }
                if (task == NULL) {
                    task = PyWeakref_Check(key) ? PyWeakref_GET_OBJECT(key) : key;
                }
                if ((void *)task == wanted[i].address) {
                    wanted[i].task = Py_NewRef(task);
                    left--;
                    break;
                }
            }
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (wanted[i].task == NULL) {
            continue;
        }
        PyObject *id = PyLong_FromVoidPtr(wanted[i].address);
        int failed = id == NULL || PyDict_SetItem(found, id, wanted[i].task) < 0;
        Py_XDECREF(id);
        if (failed) {
            goto fail;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_XDECREF(wanted[i].task);
    }
    PyMem_Free(wanted);
    PyMem_Free(index);
    Py_DECREF(ids);
    return found;
fail:
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_XDECREF(wanted[i].task);
    }
    PyMem_Free(wanted);
    PyMem_Free(index);
    Py_DECREF(ids);
    Py_DECREF(found);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"find", (PyCFunction)(void (*)(void))find, METH_FASTCALL,
     "find(registry, ids) -> {id: task}: the tasks of ``ids`` in a set of (weak references "
     "to) tasks, read without running Python code."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_registry",
    "asyncio's registry of tasks read in C (see _registry.c); optional: loop_reports has the "
    "Python copy.",
    -1, module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__registry(void)
{
    return PyModule_Create(&module_def);
}
