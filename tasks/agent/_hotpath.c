/* The agent's hot path in C: asyncio's Handle._run with task steps timed, and the
 * create_task hook's bookkeeping (see recorder.py's docstring for what they record).
 *
 * Why C: on Python 3.11 the pure-Python hooks cost about 5 us per short task (the creating
 * frame walk, two timed steps, the finish), as much as asyncio's own work for a task that
 * only awaits sleep(0). This module does the same bookkeeping, field for field, on the
 * recorder's own Python objects (TaskRecord and LoopState slots, its dicts and deques), so
 * the sender and the rows read the same records whichever path wrote them. Anything rare
 * (a task seen for the first time without create_task, a failed task, a long step, a loop
 * not seen before) is handed back to the recorder's Python methods.
 *
 * Rules kept here:
 *  - Handle._run's semantics exactly: the callback runs in the handle's context; an
 *    exception goes to the loop's exception handler (through the recorder's
 *    ``report(handle, exc)``, the same code Handle._run runs); SystemExit and
 *    KeyboardInterrupt propagate.
 *  - the agent never raises into the program: a failure of the bookkeeping is cleared and
 *    the callback still runs (untimed), exactly once.
 *  - every reference taken is released (tests run a leak loop on sys.getallocatedblocks).
 *
 * The module keeps one configuration (one recorder is installed at a time, as the Python
 * hooks do); ``configure(None)`` drops every reference it holds.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <time.h>

/* On 3.11 the creating frame is found without making a frame object for every frame walked
 * (PyEval_GetFrame and PyFrame_GetBack make one each, a tracked object for the program's
 * collector to count, per task created): the interpreter's own frame records, read as
 * CPython 3.11's frame.c reads them. Other versions use the public API. */
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && !defined(LOOPSCOPE_PUBLIC_FRAMES)
#define LOOPSCOPE_311_FRAMES 1
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE
#endif

/* -- configuration ------------------------------------------------------------------- */

static int configured = 0;
static unsigned long generation = 0;  /* changes with every configure and clear: a step
                                        * that began under another configuration (the
                                        * recorder uninstalled by the step itself) skips
                                        * its bookkeeping */

static PyObject *recorder;          /* the Recorder (for counters) */
static PyObject *live;              /* dict id(task) -> TaskRecord */
static PyObject *dirty;             /* dict seq -> record or frozen tuple */
static PyObject *finished;          /* deque of kept finished tasks */
static PyObject *gone;              /* deque of evicted seqs */
static PyObject *finished_append, *finished_popleft, *gone_append;  /* bound methods */
static Py_buffer counters_view;     /* Recorder.counters, an array('q') */
static long long *counters;         /* its items: COUNTERS in recorder.py */
enum { C_CREATED, C_RETIRED, C_DONE, C_EXCEPTION, C_CANCELLED, C_EVICTED, N_COUNTERS };
static PyObject *task_types;        /* dict type -> bool */
static PyObject *library_ids;       /* set of id(code) */
static PyObject *program_ids;       /* set of id(code) */
static PyObject *seq_counter;       /* itertools.count */
static PyObject *c_task;            /* asyncio.Task */
static PyTypeObject *record_type;   /* TaskRecord */
static PyTypeObject *state_type;    /* LoopState */
static PyObject *template;          /* a TaskRecord holding every default */
static PyObject *clock_fn;             /* NULL: CLOCK_MONOTONIC (time.perf_counter's clock) */
static PyObject *py_is_task_type, *py_adopt, *py_finish, *py_longest_line, *py_slow_step,
    *py_report, *py_created, *py_destroyed, *py_classify, *py_short_repr, *original_run,
    *original_create_task;
static double line_step_s, slow_s;
static Py_ssize_t keep_finished;

/* Slot offsets, read from the classes' member descriptors at configure time. */
static Py_ssize_t h_callback, h_args, h_context, h_loop;
static Py_ssize_t s_current, s_step_t, s_batch_start, s_id;
static Py_ssize_t r_seq, r_task_id, r_loop, r_parent, r_created_code, r_created_lasti,
    r_created_t, r_ready_t, r_busy, r_scheduled, r_longest, r_last_end, r_steps, r_waiting,
    r_dirty, r_end, r_ended_t, r_name, r_qualname, r_result, r_finish_no;
#define MAX_SLOTS 64
static Py_ssize_t record_slots[MAX_SLOTS];   /* every TaskRecord slot, to copy the template */
static Py_ssize_t n_record_slots;
static Py_ssize_t frozen_slots[MAX_SLOTS];   /* TaskRecord.frozen()'s fields, in order */
static Py_ssize_t n_frozen_slots;

/* Interned names. */
static PyObject *str_done, *str_fut_waiter, *str_self, *str_loopscope_state, *str_get_name,
    *str_get_coro, *str_qualname, *str_cancelled, *str_exception, *str_result,
    *str_popleft, *str_append, *str_str_done, *str_str_cancelled;

/* Whether a code object is library code, by address: a small direct-mapped cache in front
 * of the recorder's sets (its ``_codes_seen`` keeps every classified code alive, so an
 * address always means the same code). */
#define CODE_CACHE 1024
static void *code_cache_key[CODE_CACHE];
static char code_cache_library[CODE_CACHE];

#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

static inline void
set_slot(PyObject *obj, Py_ssize_t offset, PyObject *value)  /* steals value */
{
    PyObject *old = SLOT(obj, offset);
    SLOT(obj, offset) = value;
    Py_XDECREF(old);
}

static inline int
set_float(PyObject *obj, Py_ssize_t offset, double value)
{
    PyObject *f = PyFloat_FromDouble(value);
    if (f == NULL) {
        return -1;
    }
    set_slot(obj, offset, f);
    return 0;
}

static inline void
set_obj(PyObject *obj, Py_ssize_t offset, PyObject *value)  /* borrows value */
{
    Py_INCREF(value);
    set_slot(obj, offset, value);
}

/* A float slot's value; -1.0 with an exception set if it is not a number. */
static inline double
get_float(PyObject *obj, Py_ssize_t offset)
{
    PyObject *value = SLOT(obj, offset);
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "slot not set");
        return -1.0;
    }
    if (PyFloat_CheckExact(value)) {
        return PyFloat_AS_DOUBLE(value);
    }
    return PyFloat_AsDouble(value);
}

static inline int
now(double *out)
{
    if (clock_fn == NULL) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        *out = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
        return 0;
    }
    PyObject *value = PyObject_CallNoArgs(clock_fn);
    if (value == NULL) {
        return -1;
    }
    *out = PyFloat_AsDouble(value);
    Py_DECREF(value);
    if (*out == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    return 0;
}

/* -- running a callback as Handle._run does --------------------------------------------- */

/* After the agent's own bookkeeping failed: an Exception is the agent's and is dropped (the
 * agent never raises into the program: 0); KeyboardInterrupt or SystemExit (a signal handler
 * ran meanwhile) is the program's and stays raised (-1), as the Python hooks'
 * ``except Exception`` lets it through. */
static int
swallow(void)
{
    if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

/* ctx.run(callback, *args): a new reference, or NULL with the callback's exception set. */
static PyObject *
run_in_context(PyObject *ctx, PyObject *callback, PyObject *args)
{
    if (PyContext_Enter(ctx) < 0) {
        return NULL;
    }
    PyObject *result = PyObject_Vectorcall(
        callback, &PyTuple_GET_ITEM(args, 0), PyTuple_GET_SIZE(args), NULL);
    if (PyContext_Exit(ctx) < 0) {
        Py_XDECREF(result);
        return NULL;
    }
    return result;
}

/* After the callback raised (the exception is set): SystemExit and KeyboardInterrupt stay
 * raised (return -1); anything else goes to the loop's exception handler as Handle._run
 * sends it (0), unless reporting itself raised (-1, that exception set). */
static int
report_error(PyObject *handle)
{
    if (PyErr_ExceptionMatches(PyExc_SystemExit)
            || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        return -1;
    }
    PyObject *type, *value, *tb;
    /* The loop's frame, where Handle._run's own frame would be: a traceback even for an
     * error raised by a builtin callback. */
    PyFrameObject *frame = PyEval_GetFrame();
    if (frame != NULL) {
        PyTraceBack_Here(frame);
    }
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    if (value == NULL) {
        return 0;
    }
    /* as inside ``except BaseException as exc:`` */
    PyObject *handled = PyErr_GetHandledException();
    PyErr_SetHandledException(value);
    PyObject *done = PyObject_CallFunctionObjArgs(py_report, handle, value, NULL);
    PyErr_SetHandledException(handled);
    Py_XDECREF(handled);
    Py_DECREF(value);
    if (done == NULL) {
        return -1;
    }
    Py_DECREF(done);
    return 0;
}

/* Run the callback untimed, as Handle._run does. */
static PyObject *
run_plain(PyObject *handle, PyObject *ctx, PyObject *callback, PyObject *args)
{
    PyObject *result = run_in_context(ctx, callback, args);
    if (result == NULL) {
        if (report_error(handle) < 0) {
            return NULL;
        }
    }
    else {
        Py_DECREF(result);
    }
    Py_RETURN_NONE;
}

/* The object a callback is bound to (new reference), or NULL (no error set). */
static PyObject *
bound_self(PyObject *callback)
{
    PyObject *self = NULL;
    if (PyCFunction_Check(callback)) {
        self = PyCFunction_GET_SELF(callback);
        Py_XINCREF(self);
        return self;
    }
    if (PyMethod_Check(callback)) {
        self = PyMethod_GET_SELF(callback);
        Py_INCREF(self);
        return self;
    }
#if PY_VERSION_HEX >= 0x030D0000
    if (PyObject_GetOptionalAttr(callback, str_self, &self) < 0) {
        PyErr_Clear();
    }
#else
    if (_PyObject_LookupAttr(callback, str_self, &self) < 0) {
        PyErr_Clear();
    }
#endif
    return self;
}

/* Whether ``obj``'s class is a task class (asyncio.Task, its subclasses, the Python Task);
 * -1 on error. */
static int
is_task(PyObject *obj)
{
    PyObject *cls = (PyObject *)Py_TYPE(obj);
    if (cls == c_task) {
        return 1;
    }
    PyObject *known = PyDict_GetItemWithError(task_types, cls);  /* borrowed */
    if (known == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        PyObject *answer = PyObject_CallOneArg(py_is_task_type, cls);
        if (answer == NULL) {
            return -1;
        }
        int truth = PyObject_IsTrue(answer);
        Py_DECREF(answer);
        return truth;
    }
    return PyObject_IsTrue(known);
}

/* -- finishing a task ------------------------------------------------------------------ */

static PyObject *
frozen(PyObject *record)
{
    PyObject *tuple = PyTuple_New(n_frozen_slots);
    if (tuple == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n_frozen_slots; i++) {
        PyObject *value = SLOT(record, frozen_slots[i]);
        if (frozen_slots[i] == r_loop) {  /* the loop's number, not the LoopState */
            value = (value != NULL && Py_TYPE(value) == state_type) ? SLOT(value, s_id) : NULL;
        }
        if (value == NULL) {
            Py_DECREF(tuple);
            PyErr_SetString(PyExc_AttributeError, "record slot not set");
            return NULL;
        }
        Py_INCREF(value);
        PyTuple_SET_ITEM(tuple, i, value);
    }
    /* Plain values only, and nothing can refer back to a tuple made just now: the collector
     * need never walk it (it would stop tracking it at its next collection anyway). */
    PyObject_GC_UnTrack(tuple);
    return tuple;
}

/* Recorder._retire for a task that ended "done" or "cancelled" (end is interned). */
static int
retire(PyObject *record, PyObject *end, int end_counter)
{
    set_obj(record, r_end, end);
    PyObject *number = PyLong_FromLongLong(counters[C_RETIRED] + 1);
    if (number == NULL) {
        return -1;
    }
    counters[end_counter]++;
    counters[C_RETIRED]++;
    set_slot(record, r_finish_no, number);
    PyObject *kept = frozen(record);
    if (kept == NULL) {
        return -1;
    }
    set_obj(record, r_dirty, Py_True);
    if (PyDict_SetItem(dirty, SLOT(record, r_seq), kept) < 0) {
        Py_DECREF(kept);
        return -1;
    }
    PyObject *done = PyObject_CallOneArg(finished_append, kept);
    Py_DECREF(kept);
    if (done == NULL) {
        return -1;
    }
    Py_DECREF(done);
    Py_ssize_t size = PyObject_Size(finished);
    if (size < 0) {
        return -1;
    }
    if (size > keep_finished) {
        PyObject *old = PyObject_CallNoArgs(finished_popleft);
        if (old == NULL) {
            return -1;
        }
        PyObject *seq;
        if (Py_TYPE(old) == record_type) {
            /* a failed task's record: drop its exception (Recorder._retire does) */
            if (PyObject_SetAttrString(old, "exc", Py_None) < 0) {
                Py_DECREF(old);
                return -1;
            }
            seq = SLOT(old, r_seq);
        }
        else if (PyTuple_Check(old) && PyTuple_GET_SIZE(old) > 0) {
            seq = PyTuple_GET_ITEM(old, 0);
        }
        else {
            seq = NULL;
        }
        if (seq == NULL) {
            Py_DECREF(old);
            PyErr_SetString(PyExc_TypeError, "unexpected finished entry");
            return -1;
        }
        Py_INCREF(seq);
        Py_DECREF(old);
        done = PyObject_CallOneArg(gone_append, seq);
        /* Never sent now: out of the changed-task queue at once (Recorder._retire). */
        int queued = done == NULL ? -1 : PyDict_Contains(dirty, seq);
        if (queued > 0 && PyDict_DelItem(dirty, seq) < 0) {
            queued = -1;
        }
        Py_DECREF(seq);
        if (done == NULL) {
            return -1;
        }
        Py_DECREF(done);
        if (queued < 0) {
            return -1;
        }
        counters[C_EVICTED]++;
    }
    return 0;
}

/* Recorder._finish: the C path takes "done" and "cancelled"; a failed task (its exception
 * kept for the sender) goes to the Python method. */
static int
finish(PyObject *record, PyObject *task, double end_t)
{
    PyObject *cancelled = PyObject_CallMethodNoArgs(task, str_cancelled);
    if (cancelled == NULL) {
        return -1;
    }
    int is_cancelled = PyObject_IsTrue(cancelled);
    Py_DECREF(cancelled);
    if (is_cancelled < 0) {
        return -1;
    }
    PyObject *exc = NULL;
    if (!is_cancelled) {
        exc = PyObject_GetAttr(task, str_exception);
        if (exc == NULL) {
            return -1;
        }
        if (exc != Py_None) {
            Py_DECREF(exc);
            PyObject *end = PyFloat_FromDouble(end_t);
            if (end == NULL) {
                return -1;
            }
            PyObject *done = PyObject_CallFunctionObjArgs(py_finish, record, task, end, NULL);
            Py_DECREF(end);
            if (done == NULL) {
                return -1;
            }
            Py_DECREF(done);
            return 0;
        }
        Py_DECREF(exc);
    }
    if (set_float(record, r_ended_t, end_t) < 0) {
        return -1;
    }
    PyObject *name = PyObject_CallMethodNoArgs(task, str_get_name);
    if (name == NULL) {
        return -1;
    }
    set_slot(record, r_name, name);
    PyObject *coro = PyObject_CallMethodNoArgs(task, str_get_coro);
    if (coro == NULL) {
        return -1;
    }
    PyObject *qualname = NULL;
#if PY_VERSION_HEX >= 0x030D0000
    int found = PyObject_GetOptionalAttr(coro, str_qualname, &qualname);
#else
    int found = _PyObject_LookupAttr(coro, str_qualname, &qualname);
#endif
    Py_DECREF(coro);
    if (found < 0) {
        return -1;
    }
    set_slot(record, r_qualname, qualname != NULL ? qualname : Py_NewRef(Py_None));
    if (!is_cancelled) {
        PyObject *result = PyObject_GetAttr(task, str_result);
        if (result == NULL) {
            return -1;
        }
        if (result != Py_None) {
            PyObject *text = PyObject_CallOneArg(py_short_repr, result);
            Py_DECREF(result);
            if (text == NULL) {
                return -1;
            }
            set_slot(record, r_result, text);
        }
        else {
            Py_DECREF(result);
        }
    }
    PyObject *key = SLOT(record, r_task_id);
    if (key == NULL) {
        return -1;
    }
    Py_INCREF(key);
    int present = PyDict_Contains(live, key);
    if (present > 0 && PyDict_DelItem(live, key) < 0) {
        present = -1;
    }
    Py_DECREF(key);
    if (present < 0) {
        return -1;
    }
    return is_cancelled ? retire(record, str_str_cancelled, C_CANCELLED)
                        : retire(record, str_str_done, C_DONE);
}

/* -- the step ---------------------------------------------------------------------------- */

/* After a timed step: what Recorder's Python step does after the callback. */
static int
after_step(PyObject *record, PyObject *state, PyObject *task, double start)
{
    double end;
    if (now(&end) < 0) {
        return -1;
    }
    set_obj(state, s_current, Py_None);
    double took = end - start;
    double busy = get_float(record, r_busy);
    if (busy == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    if (set_float(record, r_busy, busy + took) < 0) {
        return -1;
    }
    PyObject *steps = SLOT(record, r_steps);
    long long n = steps != NULL ? PyLong_AsLongLong(steps) : -1;
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    PyObject *next = PyLong_FromLongLong(n + 1);
    if (next == NULL) {
        return -1;
    }
    set_slot(record, r_steps, next);
    if (set_float(record, r_last_end, end) < 0) {
        return -1;
    }
    /* The longest step before finishing, so a finished task's record has its last step. */
    double longest = get_float(record, r_longest);
    if (longest == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    if (took > longest) {
        if (set_float(record, r_longest, took) < 0) {
            return -1;
        }
        if (took >= line_step_s) {
            PyObject *done = PyObject_CallFunctionObjArgs(py_longest_line, record, task, NULL);
            if (done == NULL) {
                return -1;
            }
            Py_DECREF(done);
        }
    }
    /* A task waiting on a future is not done: one attribute read, no call. */
    PyObject *waiter = PyObject_GetAttr(task, str_fut_waiter);
    if (waiter == NULL) {
        return -1;
    }
    int suspended = waiter != Py_None;
    Py_DECREF(waiter);
    int finished_now = 0;
    if (!suspended) {
        PyObject *is_done = PyObject_CallMethodNoArgs(task, str_done);
        if (is_done == NULL) {
            return -1;
        }
        finished_now = PyObject_IsTrue(is_done);
        Py_DECREF(is_done);
        if (finished_now < 0) {
            return -1;
        }
    }
    if (finished_now) {
        if (finish(record, task, end) < 0) {
            return -1;
        }
    }
    else {
        if (set_float(record, r_ready_t, suspended ? 0.0 : end) < 0) {
            return -1;
        }
        set_obj(record, r_waiting, suspended ? Py_True : Py_False);
    }
    if (took >= slow_s) {
        PyObject *took_f = PyFloat_FromDouble(took);
        PyObject *end_f = PyFloat_FromDouble(end);
        PyObject *done = NULL;
        if (took_f != NULL && end_f != NULL) {
            done = PyObject_CallFunctionObjArgs(py_slow_step, record, task, took_f, end_f, NULL);
        }
        Py_XDECREF(took_f);
        Py_XDECREF(end_f);
        if (done == NULL) {
            return -1;
        }
        Py_DECREF(done);
    }
    if (SLOT(record, r_dirty) != Py_True) {
        set_obj(record, r_dirty, Py_True);
        /* its key, not the record: see Recorder.dirty */
        if (PyDict_SetItem(dirty, SLOT(record, r_seq), SLOT(record, r_task_id)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Before a timed step: the record (new reference) and its loop state (borrowed through the
 * record), the step's start; -1 on error (nothing changed that matters). */
static int
before_step(PyObject *handle, PyObject *task, PyObject **record_out, PyObject **state_out,
            double *start_out)
{
    PyObject *key = PyLong_FromVoidPtr(task);
    if (key == NULL) {
        return -1;
    }
    PyObject *record = PyDict_GetItemWithError(live, key);
    Py_DECREF(key);
    if (record != NULL) {
        Py_INCREF(record);
    }
    else {
        if (PyErr_Occurred()) {
            return -1;
        }
        PyObject *loop = SLOT(handle, h_loop);
        record = PyObject_CallFunctionObjArgs(py_adopt, task, loop ? loop : Py_None, NULL);
        if (record == NULL) {
            return -1;
        }
    }
    PyObject *state = Py_TYPE(record) == record_type ? SLOT(record, r_loop) : NULL;
    if (state == NULL || Py_TYPE(state) != state_type) {
        Py_DECREF(record);
        PyErr_SetString(PyExc_TypeError, "not a task record");
        return -1;
    }
    double start;
    if (now(&start) < 0) {
        Py_DECREF(record);
        return -1;
    }
    double ready = get_float(record, r_ready_t);
    if (ready == -1.0 && PyErr_Occurred()) {
        Py_DECREF(record);
        return -1;
    }
    if (ready == 0.0) {
        ready = get_float(state, s_batch_start);
        if (ready == -1.0 && PyErr_Occurred()) {
            Py_DECREF(record);
            return -1;
        }
    }
    if (ready != 0.0 && start > ready) {
        double scheduled = get_float(record, r_scheduled);
        if ((scheduled == -1.0 && PyErr_Occurred())
                || set_float(record, r_scheduled, scheduled + start - ready) < 0) {
            Py_DECREF(record);
            return -1;
        }
    }
    if (set_float(state, s_step_t, start) < 0) {
        Py_DECREF(record);
        return -1;
    }
    set_obj(state, s_current, record);
    *record_out = record;
    *state_out = state;
    *start_out = start;
    return 0;
}

/* Handle._run while the agent is installed (a method of asyncio.events.Handle). */
static PyObject *
hot_run(PyObject *handle, PyObject *Py_UNUSED(ignored))
{
    PyObject *callback = SLOT(handle, h_callback);
    PyObject *args = SLOT(handle, h_args);
    PyObject *ctx = SLOT(handle, h_context);
    if (!configured || callback == NULL || args == NULL || ctx == NULL
            || !PyTuple_CheckExact(args) || !PyContext_CheckExact(ctx)) {
        if (original_run == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "loopscope's hot path is not configured");
            return NULL;
        }
        return PyObject_CallOneArg(original_run, handle);
    }
    /* The callback may cancel its own handle (which clears these): hold them. */
    Py_INCREF(callback);
    Py_INCREF(args);
    Py_INCREF(ctx);
    PyObject *out = NULL;
    PyObject *task = NULL;
    if (!PyFunction_Check(callback)) {
        task = bound_self(callback);
        if (task != NULL) {
            int known = is_task(task);
            if (known < 0 && swallow() < 0) {
                goto done;
            }
            if (known <= 0) {
                Py_CLEAR(task);
            }
        }
    }
    PyObject *record = NULL, *state = NULL;
    double start = 0.0;
    if (task != NULL && before_step(handle, task, &record, &state, &start) < 0) {
        if (swallow() < 0) {
            goto done;
        }
        Py_CLEAR(task);
    }
    if (task == NULL) {
        out = run_plain(handle, ctx, callback, args);
        goto done;
    }
    Py_INCREF(state);
    unsigned long began_in = generation;
    PyObject *result = run_in_context(ctx, callback, args);
    if (result == NULL) {
        set_obj(state, s_current, Py_None);
        if (report_error(handle) < 0) {
            Py_DECREF(state);
            Py_DECREF(record);
            goto done;  /* out stays NULL: SystemExit, KeyboardInterrupt, or the report's */
        }
    }
    else {
        Py_DECREF(result);
    }
    if (!configured || began_in != generation) {
        set_obj(state, s_current, Py_None);  /* the record belongs to a recorder now gone */
    }
    else if (after_step(record, state, task, start) < 0) {
        set_obj(state, s_current, Py_None);
        if (swallow() < 0) {
            Py_DECREF(state);
            Py_DECREF(record);
            goto done;
        }
    }
    Py_DECREF(state);
    Py_DECREF(record);
    out = Py_NewRef(Py_None);
done:
    Py_XDECREF(task);
    Py_DECREF(callback);
    Py_DECREF(args);
    Py_DECREF(ctx);
    return out;
}

/* -- create_task ------------------------------------------------------------------------- */

static int is_library_code_uncached(PyCodeObject *code);

/* Whether code is library code (asyncio's or the agent's): 1, 0, or -1 on error. */
static int
is_library_code(PyCodeObject *code)
{
    size_t slot = ((uintptr_t)code >> 4) % CODE_CACHE;
    if (code_cache_key[slot] == (void *)code) {
        return code_cache_library[slot];
    }
    int answer = is_library_code_uncached(code);
    if (answer >= 0) {
        code_cache_key[slot] = (void *)code;
        code_cache_library[slot] = (char)answer;
    }
    return answer;
}

static int
is_library_code_uncached(PyCodeObject *code)
{
    PyObject *key = PyLong_FromVoidPtr(code);
    if (key == NULL) {
        return -1;
    }
    int in = PySet_Contains(library_ids, key);
    if (in != 0) {
        Py_DECREF(key);
        return in;
    }
    in = PySet_Contains(program_ids, key);
    Py_DECREF(key);
    if (in != 0) {
        return in < 0 ? -1 : 0;
    }
    PyObject *answer = PyObject_CallOneArg(py_classify, (PyObject *)code);
    if (answer == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return truth;
}

static PyObject *
new_record(PyObject *seq, PyObject *key, PyObject *state, PyObject *parent, PyObject *code,
           int lasti, double created_t)
{
    PyObject *record = record_type->tp_alloc(record_type, 0);
    if (record == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n_record_slots; i++) {
        PyObject *value = SLOT(template, record_slots[i]);
        Py_XINCREF(value);
        SLOT(record, record_slots[i]) = value;
    }
    PyObject *lasti_o = PyLong_FromLong(lasti);
    PyObject *t = PyFloat_FromDouble(created_t);
    if (lasti_o == NULL || t == NULL) {
        Py_XDECREF(lasti_o);
        Py_XDECREF(t);
        Py_DECREF(record);
        return NULL;
    }
    set_obj(record, r_seq, seq);
    set_obj(record, r_task_id, key);
    set_obj(record, r_loop, state);
    set_obj(record, r_parent, parent);
    set_obj(record, r_created_code, code);
    set_slot(record, r_created_lasti, lasti_o);
    set_obj(record, r_ready_t, t);
    set_slot(record, r_created_t, t);
    {
        /* The program's collector walks every tracked object on each full collection, and
         * a record lives as long as its task: out of its sight, the records of 10,000
         * pending tasks cost it nothing. A record refers to plain values, its LoopState and
         * (failed tasks) an exception; nothing of the program's refers to a record, so it
         * is in no cycle the collector would have to break (a LoopState it refers to stays
         * alive through the recorder anyway). */
        PyObject_GC_UnTrack(record);
    }
    return record;
}

/* Recorder._created for a loop already known; -1 on error. */
static int
created(PyObject *task, PyObject *loop)
{
    PyObject *state = PyObject_GetAttr(loop, str_loopscope_state);
    if (state == NULL) {
        return -1;
    }
    if (Py_TYPE(state) != state_type) {  /* a new loop: the Python method makes its state */
        Py_DECREF(state);
        PyObject *frame = (PyObject *)PyEval_GetFrame();
        PyObject *done = PyObject_CallFunctionObjArgs(
            py_created, task, loop, frame ? frame : Py_None, NULL);
        Py_XDECREF(done);
        return done == NULL ? -1 : 0;
    }
    /* The creation line: the first frame outside asyncio and the agent. */
    PyCodeObject *code = NULL;
    int lasti = -1;
#ifdef LOOPSCOPE_311_FRAMES
    _PyInterpreterFrame *frame = PyThreadState_Get()->cframe->current_frame;
    while (frame != NULL) {
        if (_PyFrame_IsIncomplete(frame)) {
            frame = frame->previous;
            continue;
        }
        int library = is_library_code(frame->f_code);
        if (library < 0) {
            Py_DECREF(state);
            return -1;
        }
        if (!library) {
            code = (PyCodeObject *)Py_NewRef(frame->f_code);
            int index = _PyInterpreterFrame_LASTI(frame);
            lasti = index < 0 ? -1 : index * (int)sizeof(_Py_CODEUNIT);  /* PyFrame_GetLasti */
            break;
        }
        frame = frame->previous;
    }
#else
    PyFrameObject *frame = PyEval_GetFrame();
    Py_XINCREF(frame);
    while (frame != NULL) {
        code = PyFrame_GetCode(frame);
        int library = is_library_code(code);
        if (library < 0) {
            Py_DECREF(code);
            Py_DECREF(frame);
            Py_DECREF(state);
            return -1;
        }
        if (!library) {
            break;
        }
        Py_CLEAR(code);
        PyFrameObject *back = PyFrame_GetBack(frame);
        Py_DECREF(frame);
        frame = back;
    }
    lasti = frame != NULL ? PyFrame_GetLasti(frame) : -1;
    Py_XDECREF(frame);
#endif
    PyObject *current = SLOT(state, s_current);
    PyObject *parent = (current != NULL && current != Py_None && Py_TYPE(current) == record_type)
        ? SLOT(current, r_seq) : Py_None;
    PyObject *key = PyLong_FromVoidPtr(task);
    int rc = -1;
    PyObject *seq = NULL, *record = NULL;
    if (key == NULL) {
        goto out;
    }
    PyObject *old = PyDict_GetItemWithError(live, key);  /* borrowed */
    if (old == NULL && PyErr_Occurred()) {
        goto out;
    }
    if (old != NULL && Py_TYPE(old) == record_type && SLOT(old, r_end) == Py_None) {
        /* its task was collected and the id is in use again */
        PyObject *done = PyObject_CallOneArg(py_destroyed, old);
        if (done == NULL) {
            goto out;
        }
        Py_DECREF(done);
    }
    double t;
    if (now(&t) < 0) {
        goto out;
    }
    seq = PyIter_Next(seq_counter);
    if (seq == NULL) {
        goto out;
    }
    record = new_record(seq, key, state, parent ? parent : Py_None,
                        code != NULL ? (PyObject *)code : Py_None, lasti, t);
    if (record == NULL || PyDict_SetItem(live, key, record) < 0) {
        goto out;
    }
    counters[C_CREATED]++;
    set_obj(record, r_dirty, Py_True);
    rc = PyDict_SetItem(dirty, seq, key);
out:
    Py_XDECREF(record);
    Py_XDECREF(seq);
    Py_XDECREF(key);
    Py_XDECREF(code);
    Py_DECREF(state);
    return rc;
}

/* BaseEventLoop.create_task while the agent is installed: asyncio's, then the record. */
static PyObject *
hot_create_task(PyObject *loop, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (original_create_task == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "loopscope's hot path is not configured");
        return NULL;
    }
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    Py_ssize_t total = nargs + nkw + 1;
    PyObject *small[8];
    PyObject **stack = small;
    if (total > 8) {
        stack = PyMem_Malloc(total * sizeof(PyObject *));
        if (stack == NULL) {
            return PyErr_NoMemory();
        }
    }
    stack[0] = loop;
    for (Py_ssize_t i = 0; i < nargs + nkw; i++) {
        stack[i + 1] = args[i];
    }
    PyObject *task = PyObject_Vectorcall(original_create_task, stack, nargs + 1, kwnames);
    if (stack != small) {
        PyMem_Free(stack);
    }
    if (task != NULL && configured && created(task, loop) < 0 && swallow() < 0) {
        Py_CLEAR(task);  /* the program's KeyboardInterrupt: the task exists, as in Python */
    }
    return task;
}

static PyMethodDef run_def = {
    "_run", (PyCFunction)hot_run, METH_NOARGS,
    "Handle._run with the agent's step timing (loopscope)."};
static PyMethodDef create_task_def = {
    "create_task", (PyCFunction)(void (*)(void))hot_create_task, METH_FASTCALL | METH_KEYWORDS,
    "BaseEventLoop.create_task with the agent's record (loopscope)."};

/* -- configuration ----------------------------------------------------------------------- */

static void
clear_config(void)
{
    configured = 0;
    Py_CLEAR(recorder);
    Py_CLEAR(live);
    Py_CLEAR(dirty);
    Py_CLEAR(finished);
    Py_CLEAR(gone);
    Py_CLEAR(finished_append);
    Py_CLEAR(finished_popleft);
    Py_CLEAR(gone_append);
    if (counters != NULL) {
        PyBuffer_Release(&counters_view);
        counters = NULL;
    }
    memset(code_cache_key, 0, sizeof(code_cache_key));
    Py_CLEAR(task_types);
    Py_CLEAR(library_ids);
    Py_CLEAR(program_ids);
    Py_CLEAR(seq_counter);
    Py_CLEAR(c_task);
    Py_CLEAR(record_type);
    Py_CLEAR(state_type);
    Py_CLEAR(template);
    Py_CLEAR(clock_fn);
    Py_CLEAR(py_is_task_type);
    Py_CLEAR(py_adopt);
    Py_CLEAR(py_finish);
    Py_CLEAR(py_longest_line);
    Py_CLEAR(py_slow_step);
    Py_CLEAR(py_created);
    Py_CLEAR(py_destroyed);
    Py_CLEAR(py_classify);
    Py_CLEAR(py_short_repr);
    /* original_run, original_create_task and py_report stay: a descriptor already handed
     * out may still be called (a loop running while the agent is uninstalled), and a step
     * that began while configured may raise after an uninstall (it is reported as
     * Handle._run would). */
    generation++;
}

/* The offset of a slot (a member descriptor ``cls.name`` holding an object). */
static int
slot_offset(PyObject *cls, const char *name, Py_ssize_t *out)
{
    PyObject *descr = PyObject_GetAttrString(cls, name);
    if (descr == NULL) {
        return -1;
    }
    if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        Py_DECREF(descr);
        PyErr_Format(PyExc_TypeError, "%s is not a slot", name);
        return -1;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != T_OBJECT_EX || (member->flags & READONLY)) {
        Py_DECREF(descr);
        PyErr_Format(PyExc_TypeError, "%s is not a writable object slot", name);
        return -1;
    }
    *out = member->offset;
    Py_DECREF(descr);
    return 0;
}

static int
slot_offsets(PyObject *cls, PyObject *names, Py_ssize_t *out, Py_ssize_t *count)
{
    PyObject *seq = PySequence_Fast(names, "slot names must be a sequence");
    if (seq == NULL) {
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_SLOTS) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "too many slots");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *name = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
        if (name == NULL || slot_offset(cls, name, &out[i]) < 0) {
            Py_DECREF(seq);
            return -1;
        }
    }
    *count = n;
    Py_DECREF(seq);
    return 0;
}

#define TAKE(name) do { \
        PyObject *v = PyDict_GetItemString(config, #name); \
        if (v == NULL) { PyErr_Format(PyExc_KeyError, "configure: missing %s", #name); \
                         goto fail; } \
        Py_INCREF(v); Py_XSETREF(name, v); } while (0)

static PyObject *
configure(PyObject *Py_UNUSED(module), PyObject *config)
{
    clear_config();
    if (config == Py_None) {
        Py_RETURN_NONE;
    }
    if (!PyDict_Check(config)) {
        PyErr_SetString(PyExc_TypeError, "configure(dict or None)");
        return NULL;
    }
    PyObject *handle_cls = PyDict_GetItemString(config, "handle_type");
    PyObject *record_cls = PyDict_GetItemString(config, "record_type");
    PyObject *state_cls = PyDict_GetItemString(config, "state_type");
    PyObject *clock_obj = PyDict_GetItemString(config, "clock");
    PyObject *numbers = PyDict_GetItemString(config, "numbers");
    if (handle_cls == NULL || record_cls == NULL || state_cls == NULL || clock_obj == NULL
            || numbers == NULL || !PyType_Check(record_cls) || !PyType_Check(state_cls)) {
        PyErr_SetString(PyExc_KeyError, "configure: missing types, clock or numbers");
        return NULL;
    }
    TAKE(recorder);
    TAKE(live);
    TAKE(dirty);
    TAKE(finished);
    TAKE(gone);
    TAKE(task_types);
    TAKE(library_ids);
    TAKE(program_ids);
    TAKE(seq_counter);
    TAKE(c_task);
    TAKE(template);
    TAKE(py_is_task_type);
    TAKE(py_adopt);
    TAKE(py_finish);
    TAKE(py_longest_line);
    TAKE(py_slow_step);
    TAKE(py_report);
    TAKE(py_created);
    TAKE(py_destroyed);
    TAKE(py_classify);
    TAKE(py_short_repr);
    TAKE(original_run);
    TAKE(original_create_task);
    finished_append = PyObject_GetAttr(finished, str_append);
    finished_popleft = PyObject_GetAttr(finished, str_popleft);
    gone_append = PyObject_GetAttr(gone, str_append);
    if (finished_append == NULL || finished_popleft == NULL || gone_append == NULL) {
        goto fail;
    }
    PyObject *counts = PyDict_GetItemString(config, "counters");
    if (counts == NULL
            || PyObject_GetBuffer(counts, &counters_view, PyBUF_WRITABLE | PyBUF_FORMAT) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_KeyError, "configure: missing counters");
        }
        goto fail;
    }
    counters = (long long *)counters_view.buf;
    /* Kept finished tasks: frozen tuples the collector need not walk, and failed tasks'
     * records, alive as long as they are kept; the deque is in no cycle. */
    PyObject_GC_UnTrack(finished);
    if (counters_view.format == NULL || strcmp(counters_view.format, "q") != 0
            || counters_view.len != (Py_ssize_t)(N_COUNTERS * sizeof(long long))) {
        PyErr_SetString(PyExc_TypeError, "configure: counters must be array('q') of 6");
        goto fail;
    }
    if (!PyDict_Check(live) || !PyDict_Check(dirty) || !PyDict_Check(task_types) || !PySet_Check(library_ids)
            || !PySet_Check(program_ids)) {
        PyErr_SetString(PyExc_TypeError, "configure: wrong container types");
        goto fail;
    }
    record_type = (PyTypeObject *)Py_NewRef(record_cls);
    state_type = (PyTypeObject *)Py_NewRef(state_cls);
    if (Py_TYPE(template) != record_type) {
        PyErr_SetString(PyExc_TypeError, "configure: template is not a record");
        goto fail;
    }
    clock_fn = clock_obj == Py_None ? NULL : Py_NewRef(clock_obj);
    if (!PyArg_ParseTuple(numbers, "ddn", &line_step_s, &slow_s, &keep_finished)) {
        goto fail;
    }
    PyObject *record_slot_names = PyDict_GetItemString(config, "record_slots");
    PyObject *frozen_names = PyDict_GetItemString(config, "frozen_slots");
    if (record_slot_names == NULL || frozen_names == NULL
            || slot_offsets(record_cls, record_slot_names, record_slots, &n_record_slots) < 0
            || slot_offsets(record_cls, frozen_names, frozen_slots, &n_frozen_slots) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_KeyError, "configure: missing slot names");
        }
        goto fail;
    }
    if (slot_offset(handle_cls, "_callback", &h_callback) < 0
            || slot_offset(handle_cls, "_args", &h_args) < 0
            || slot_offset(handle_cls, "_context", &h_context) < 0
            || slot_offset(handle_cls, "_loop", &h_loop) < 0
            || slot_offset(state_cls, "current", &s_current) < 0
            || slot_offset(state_cls, "step_t", &s_step_t) < 0
            || slot_offset(state_cls, "batch_start", &s_batch_start) < 0
            || slot_offset(state_cls, "id", &s_id) < 0
            || slot_offset(record_cls, "seq", &r_seq) < 0
            || slot_offset(record_cls, "task_id", &r_task_id) < 0
            || slot_offset(record_cls, "loop", &r_loop) < 0
            || slot_offset(record_cls, "parent", &r_parent) < 0
            || slot_offset(record_cls, "created_code", &r_created_code) < 0
            || slot_offset(record_cls, "created_lasti", &r_created_lasti) < 0
            || slot_offset(record_cls, "created_t", &r_created_t) < 0
            || slot_offset(record_cls, "ready_t", &r_ready_t) < 0
            || slot_offset(record_cls, "busy", &r_busy) < 0
            || slot_offset(record_cls, "scheduled", &r_scheduled) < 0
            || slot_offset(record_cls, "longest", &r_longest) < 0
            || slot_offset(record_cls, "last_end", &r_last_end) < 0
            || slot_offset(record_cls, "steps", &r_steps) < 0
            || slot_offset(record_cls, "waiting", &r_waiting) < 0
            || slot_offset(record_cls, "dirty", &r_dirty) < 0
            || slot_offset(record_cls, "end", &r_end) < 0
            || slot_offset(record_cls, "ended_t", &r_ended_t) < 0
            || slot_offset(record_cls, "name", &r_name) < 0
            || slot_offset(record_cls, "qualname", &r_qualname) < 0
            || slot_offset(record_cls, "result", &r_result) < 0
            || slot_offset(record_cls, "finish_no", &r_finish_no) < 0) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n_record_slots; i++) {
        if (SLOT(template, record_slots[i]) == NULL) {
            PyErr_SetString(PyExc_ValueError, "configure: the template lacks a slot");
            goto fail;
        }
    }
    configured = 1;
    Py_RETURN_NONE;
fail:
    clear_config();
    return NULL;
}

static PyObject *
descriptors(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *handle_cls, *loop_cls;
    if (!PyArg_ParseTuple(args, "O!O!", &PyType_Type, &handle_cls, &PyType_Type, &loop_cls)) {
        return NULL;
    }
    PyObject *run = PyDescr_NewMethod((PyTypeObject *)handle_cls, &run_def);
    PyObject *create = PyDescr_NewMethod((PyTypeObject *)loop_cls, &create_task_def);
    if (run == NULL || create == NULL) {
        Py_XDECREF(run);
        Py_XDECREF(create);
        return NULL;
    }
    return Py_BuildValue("(NN)", run, create);
}

static PyObject *
perf_clock(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return PyFloat_FromDouble((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

static PyMethodDef module_methods[] = {
    {"configure", configure, METH_O,
     "configure(dict): the recorder's objects and hooks; configure(None) drops them."},
    {"descriptors", descriptors, METH_VARARGS,
     "descriptors(Handle, BaseEventLoop) -> (Handle._run, BaseEventLoop.create_task)."},
    {"clock", perf_clock, METH_NOARGS,
     "The clock the hot path reads when the recorder's is time.perf_counter."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_hotpath",
    "The agent's hot path in C (see recorder.py); optional: the Python hooks are the fallback.",
    -1, module_methods, NULL, NULL, NULL, NULL,
};

#define INTERN(var, text) do { var = PyUnicode_InternFromString(text); \
        if (var == NULL) return NULL; } while (0)

PyMODINIT_FUNC
PyInit__hotpath(void)
{
    INTERN(str_done, "done");
    INTERN(str_fut_waiter, "_fut_waiter");
    INTERN(str_self, "__self__");
    INTERN(str_loopscope_state, "_loopscope_state");
    INTERN(str_get_name, "get_name");
    INTERN(str_get_coro, "get_coro");
    INTERN(str_qualname, "__qualname__");
    INTERN(str_cancelled, "cancelled");
    INTERN(str_exception, "_exception");
    INTERN(str_result, "_result");
    INTERN(str_popleft, "popleft");
    INTERN(str_append, "append");
    INTERN(str_str_done, "done");
    INTERN(str_str_cancelled, "cancelled");
    return PyModule_Create(&module_def);
}
