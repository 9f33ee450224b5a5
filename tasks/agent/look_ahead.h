/* Asking memory for what the coming steps and evictions will read, before they read it.
 *
 * Included by _hotpath.c (one translation unit), after the record type, the live table, the
 * step wrapper's accessors and the configuration they use. Everything here is a hint:
 * prefetches take no reference and change nothing, and where a layout cannot be checked
 * (deque_peek.h) nothing is asked for. Why it pays: with thousands of tasks stepped in turn,
 * everything a step touches was last touched thousands of steps ago, so each step waited for
 * memory several times over, one wait after another (``perf annotate`` on the hot path showed
 * most of its time on a handful of such loads). Asked for early, the waits overlap. */

static PyTypeObject *deque_type;    /* collections.deque (configure) */

/* -- the loop's queue ----------------------------------------------------------------------
 *
 * The first thing a step touches is its handle's context (and its callback), objects made
 * when the step was scheduled, often tens of thousands of callbacks ago: a wait for memory
 * that asyncio's own Handle._run pays as well; then the task's slot in the live table.
 * While one callback runs, the next handles in the loop's ready queue are known, so each
 * step asks for what the coming ones will need, one stage per indirection: the handle four
 * ahead, the context and callback of the one three ahead (its fields in cache by now), the
 * task and live-table slot of the one two ahead (its callback in cache by now), and the
 * record of the next one (its slot in cache by now). The queue is read in place
 * (deque_peek.h). A queue of another type, a foreign object in it, or a loop gone since, and
 * nothing is done. */

static PyTypeObject *handle_type;   /* asyncio.events.Handle */

/* The address of the task whose step a queued handle runs (never dereferenced), or NULL: the
 * handle and its callback must be in cache (look_ahead reads them a stage after asking). */
static inline const void *
step_task(PyObject *handle)
{
    if (handle == NULL || !PyObject_TypeCheck(handle, handle_type)) {
        return NULL;
    }
    PyObject *callback = SLOT(handle, h_callback);
    if (callback == NULL) {
        return NULL;
    }
    if (Py_TYPE(callback) == self_type && self_inline) {
        return *(PyObject **)((char *)callback + sizeof(PyObject));
    }
    if (PyCFunction_Check(callback)) {  /* a wake-up: task_wakeup bound to its task */
        return PyCFunction_GET_SELF(callback);
    }
    return NULL;
}

static PyObject *ahead_loop;        /* whose ready queue ahead_ready is (compared, not held) */
static PyObject *ahead_ready;       /* that loop's ``_ready`` (strong) */

static void
look_ahead(PyObject *handle)
{
    PyObject *loop = SLOT(handle, h_loop);
    if (loop == NULL) {
        return;
    }
    if (loop != ahead_loop) {
        PyObject *ready = PyObject_GetAttr(loop, str_ready);
        if (ready == NULL) {
            PyErr_Clear();
        }
        PyObject *old = ahead_ready;
        ahead_ready = ready;
        ahead_loop = loop;
        Py_XDECREF(old);
    }
    PyObject *ready = ahead_ready;
    if (ready == NULL || !deque_peek_ok || !Py_IS_TYPE(ready, deque_type)) {
        return;
    }
    /* one ahead (the next step): its record, read from its slot (in cache by now) */
    const void *task = step_task(deque_peek(ready, 0));
    PyObject *record = task != NULL ? live_get(live, task) : NULL;
    if (record != NULL) {
        record_prefetch(record);
    }
    /* two ahead: its task and the task's slot (its callback is in cache by now) */
    task = step_task(deque_peek(ready, 1));
    if (task != NULL) {
        __builtin_prefetch(task, 1);
        live_prefetch(live, task);
    }
    /* three ahead: its context and callback (its handle is in cache by now) */
    PyObject *third = deque_peek(ready, 2);
    if (third != NULL && PyObject_TypeCheck(third, handle_type)) {
        PyObject *ctx = SLOT(third, h_context);
        PyObject *callback = SLOT(third, h_callback);
        if (ctx != NULL) {
            __builtin_prefetch(ctx, 1);
        }
        if (callback != NULL) {
            __builtin_prefetch(callback);
        }
    }
    /* four ahead: the handle itself; and the queue's own memory further on */
    PyObject *fourth = deque_peek(ready, 3);
    if (fourth != NULL) {
        __builtin_prefetch(fourth);
    }
    deque_prefetch(ready, 16);
}

/* -- retention ------------------------------------------------------------------------------ */

/* The kept finished tasks leave in the order they came, each long after it was last touched:
 * freeing one read its record and the objects it holds (its seq, name, result) from memory,
 * one wait after another. The next two to leave are known, so each eviction asks for them
 * ahead, one stage per indirection: the record after next is prefetched, and the objects of
 * the next one (its record in cache by then) are. The deque is read in place (deque_peek.h:
 * indexing it would take a reference, a write that waits for the very memory wanted). */
static void
evict_ahead(void)
{
    if (!deque_peek_ok || !Py_IS_TYPE(finished, deque_type)) {
        return;
    }
    PyObject *next = deque_peek(finished, 0);
    if (next != NULL && Py_IS_TYPE(next, &Record_Type)) {
        __builtin_prefetch(RECORD(next)->seq, 1);
        __builtin_prefetch(RECORD(next)->name, 1);
        __builtin_prefetch(RECORD(next)->result, 1);
    }
    PyObject *after = deque_peek(finished, 1);
    if (after != NULL) {
        record_prefetch(after);
    }
}
