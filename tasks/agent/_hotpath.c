/* The agent's hot path in C: asyncio's Handle._run with task steps timed, and the
 * create_task hook's bookkeeping (see recorder.py's docstring for what they record).
 *
 * Why C: on Python 3.11 the pure-Python hooks cost about 5 us per short task (the creating
 * frame walk, two timed steps, the finish), as much as asyncio's own work for a task that
 * only awaits sleep(0). This module does the same bookkeeping, field for field, in its own
 * record type (TaskRecord below: records.TaskRecord's attributes) and on the recorder's
 * Python objects (LoopState slots, its dicts and deques), so the sender and the rows read
 * the same attributes whichever path wrote them. Anything rare
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
#include <math.h>
#include <time.h>

#include "live_table.h"
#include "deque_peek.h"

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
static LiveObject *live;            /* task address -> TaskRecord (live_table.h) */
static PyObject *dirty;             /* the changed records (a ChangedQueue) */
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
static PyTypeObject *state_type;    /* LoopState */
static PyObject *clock_fn;             /* NULL: CLOCK_MONOTONIC (time.perf_counter's clock) */
static PyObject *py_is_task_type, *py_adopt, *py_finish, *py_longest_line, *py_slow_step,
    *py_report, *py_created, *py_destroyed, *py_classify, *py_short_repr, *original_run,
    *original_create_task;
static double line_step_s, slow_s;
static Py_ssize_t keep_finished;

/* Slot offsets of Handle and LoopState, read from their member descriptors at configure. */
static Py_ssize_t h_callback, h_args, h_context, h_loop;
static Py_ssize_t s_current, s_step_t, s_batch_start, s_id;

/* -- the record of one task ---------------------------------------------------------------
 *
 * The C path's TaskRecord: the same attributes as records.TaskRecord (the sender and the rows
 * read either alike), with its times and counts as C numbers. Why a type of its own rather
 * than the Python class's slots: 100,000 short tasks made a record, seven float objects and
 * a frozen tuple each (nine allocations, 640 bytes), and the program's run time paid more for
 * that memory than for the instructions. This is one allocation of about 200 bytes, out of
 * the collector's sight (no GC flag: nothing of the program's refers to a record, and the
 * values it refers to are plain), kept as it is once its task finishes: nothing to freeze. */

typedef struct RecordObject {
    PyObject_HEAD
    PyObject *seq;            /* int: the how-manieth task created */
    uintptr_t task_id;        /* id(task), its address (the key of ``live``); an int when
                               * read: no int object kept per task */
    PyObject *loop;           /* LoopState */
    PyObject *parent;         /* int or None */
    PyObject *created_code;   /* code or None */
    PyObject *longest_line, *blocked, *end, *name, *qualname, *result, *exc, *error, *chain;
    PyObject *created_name;   /* the task's name when it was made, or NULL (see task_name) */
    double created_t, ready_t, busy, scheduled, longest, last_end;
    double ended_t;           /* NaN while not ended (None when read): no float kept */
    long long steps, finish_no, chain_steps;
    int created_lasti;
    char dirty, waiting, warned_stuck, sent;
    char queued;              /* in the queue of changed tasks (changed_queue.h) */
    struct RecordObject *changed_prev, *changed_next;  /* its place there */
} RecordObject;

static PyTypeObject Record_Type;
#define RECORD(obj) ((RecordObject *)(obj))

/* Ask for every cache line of a record at once (a step reads its head and its times, which
 * lie lines apart): one wait for memory instead of several in a row. */
static inline void
record_prefetch(PyObject *record)
{
    const char *start = (const char *)record;
    for (size_t offset = 0; offset < sizeof(RecordObject); offset += 64) {
        __builtin_prefetch(start + offset, 1);
    }
}

#include "changed_queue.h"
#define CHANGED ((ChangedObject *)dirty)

/* Interned names. */
static PyObject *str_done, *str_fut_waiter, *str_self, *str_loopscope_state, *str_get_name,
    *str_get_coro, *str_qualname, *str_cancelled, *str_exception, *str_result,
    *str_popleft, *str_append, *str_str_done, *str_str_cancelled, *str_ready;

/* Whether a code object is library code, by address: a small direct-mapped cache in front
 * of the recorder's sets (its ``_codes_seen`` keeps every classified code alive, so an
 * address always means the same code). */
#define CODE_CACHE 1024
static void *code_cache_key[CODE_CACHE];
static char code_cache_library[CODE_CACHE];

#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

/* asyncio.Task's own accessors, called directly for a task of exactly that type: each was a
 * method or attribute looked up by name (the type's dict, then a bound call) several times
 * per task; this is a C call through the descriptor's function, as the lookup would end in.
 * NULL (use the lookup) where the type's accessor is not a plain C one (the Python Task,
 * or a later Python whose methods take other calling conventions). */
typedef PyObject *(*noargs_fn)(PyObject *, PyObject *);
typedef struct {
    noargs_fn call;           /* a METH_NOARGS method */
    getter get;               /* or a getset's getter */
    void *closure;
    PyObject **name;
    int attribute;            /* read as ``task.<name>``, not called as ``task.<name>()`` */
} Accessor;
static Accessor task_done = {NULL, NULL, NULL, &str_done, 0},
    task_cancelled = {NULL, NULL, NULL, &str_cancelled, 0},
    task_get_name = {NULL, NULL, NULL, &str_get_name, 0},
    task_get_coro = {NULL, NULL, NULL, &str_get_coro, 0},
    task_fut_waiter = {NULL, NULL, NULL, &str_fut_waiter, 1},
    task_exception = {NULL, NULL, NULL, &str_exception, 1},
    task_result = {NULL, NULL, NULL, &str_result, 1};
static Accessor *task_accessors[] = {&task_done, &task_cancelled, &task_get_name,
                                     &task_get_coro, &task_fut_waiter, &task_exception,
                                     &task_result, NULL};

/* ``task.<name>()`` for a method accessor, ``task.<name>`` for an attribute one: a new
 * reference, or NULL with an error set. */
static inline PyObject *
task_read(PyObject *task, Accessor *accessor)
{
    if (Py_IS_TYPE(task, (PyTypeObject *)c_task)) {
        if (accessor->call != NULL) {
            return accessor->call(task, NULL);
        }
        if (accessor->get != NULL) {
            return accessor->get(task, accessor->closure);
        }
    }
    if (accessor->attribute) {
        return PyObject_GetAttr(task, *accessor->name);
    }
    return PyObject_CallMethodNoArgs(task, *accessor->name);
}

/* A task's name as asyncio.Task keeps it, read in place (borrowed; NULL if unknown).
 *
 * Why: a finished task's record takes its name, and get_name() takes a reference, which
 * writes to the name string: made when the task was, it is long out of the processor's
 * caches by the task's end (10,000 tasks later), one wait for memory per task. So the
 * record takes the name when the task is made (``created_name``, in cache then), and at the
 * end only compares the task's current name pointer with it, which reads the task (in cache:
 * it is stepping) and not the string; a task renamed since is read as before.
 *
 * Where the C Task keeps its name is found once, on the first task seen: the one word of the
 * object equal to what get_name() returns. Where that fails (a Python that makes names
 * lazily, as 3.12 does, or no single match), name_offset stays -1 and get_name() is used. */
static Py_ssize_t name_offset = 0;  /* 0: not looked for yet; -1: not found */

static PyObject *
task_name(PyObject *task)
{
    if (!Py_IS_TYPE(task, (PyTypeObject *)c_task) || name_offset < 0) {
        return NULL;
    }
    if (name_offset == 0) {
        name_offset = -1;
        PyObject *name = task_read(task, &task_get_name);
        if (name == NULL) {
            PyErr_Clear();
            return NULL;
        }
        Py_ssize_t found = -1, matches = 0;
        Py_ssize_t size = Py_TYPE(task)->tp_basicsize;
        for (Py_ssize_t offset = sizeof(PyObject); offset + (Py_ssize_t)sizeof(PyObject *) <= size;
                offset += sizeof(PyObject *)) {
            if (*(PyObject **)((char *)task + offset) == name) {
                found = offset;
                matches++;
            }
        }
        int text = PyUnicode_Check(name);
        Py_DECREF(name);  /* the task holds it */
        if (matches != 1 || !text) {
            return NULL;
        }
        name_offset = found;
    }
    return *(PyObject **)((char *)task + name_offset);
}

/* The type whose ``__self__`` is a C getter (the task step's wrapper), and that getter:
 * the step's task read without a lookup by name. */
static PyTypeObject *self_type;
static getter self_get;
static void *self_closure;
static int self_inline;  /* the wrapper keeps its task right after its object header (as
                          * 3.11-3.13's TaskStepMethWrapper does, checked against the getter
                          * on the first wrapper seen): look_ahead reads it without the
                          * getter's reference, so without touching the task */

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
    PyObject *old = SLOT(obj, offset);
    if (old != NULL && PyFloat_CheckExact(old) && Py_REFCNT(old) == 1) {
        ((PyFloatObject *)old)->ob_fval = value;
        return 0;
    }
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
    if (Py_TYPE(callback) == self_type) {
        self = self_get(callback, self_closure);
        if (self == NULL) {
            PyErr_Clear();
        }
        return self;
    }
    PyObject *descr = _PyType_Lookup(Py_TYPE(callback), str_self);  /* borrowed */
    if (descr != NULL && Py_IS_TYPE(descr, &PyGetSetDescr_Type)
            && ((PyGetSetDescrObject *)descr)->d_getset->get != NULL
            && !(Py_TYPE(callback)->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        /* a static type (asyncio's step wrapper): its getter lives as long as the module */
        self_type = Py_TYPE(callback);
        self_get = ((PyGetSetDescrObject *)descr)->d_getset->get;
        self_closure = ((PyGetSetDescrObject *)descr)->d_getset->closure;
        PyObject *got = self_get(callback, self_closure);
        if (got == NULL) {
            PyErr_Clear();
        }
        self_inline = got != NULL && self_type->tp_basicsize >= (Py_ssize_t)(
                          sizeof(PyObject) + sizeof(PyObject *))
                      && *(PyObject **)((char *)callback + sizeof(PyObject)) == got;
        Py_XDECREF(got);
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

#include "look_ahead.h"

/* Recorder._retire for a task that ended "done" or "cancelled" (end is interned). */
static int
retire(RecordObject *record, PyObject *end, int end_counter)
{
    Py_SETREF(record->end, Py_NewRef(end));
    counters[end_counter]++;
    counters[C_RETIRED]++;
    record->finish_no = counters[C_RETIRED];
    record->dirty = 1;
    changed_add(CHANGED, record);
    PyObject *done = PyObject_CallOneArg(finished_append, (PyObject *)record);
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
        evict_ahead();
        PyObject *seq;
        int announce = 1;
        if (Py_IS_TYPE(old, &Record_Type)) {
            Py_CLEAR(RECORD(old)->exc);  /* a failed task's exception (Recorder._retire) */
            RECORD(old)->exc = Py_NewRef(Py_None);
            seq = RECORD(old)->seq;
            announce = RECORD(old)->sent;
        }
        else if (PyTuple_Check(old) && PyTuple_GET_SIZE(old) > 0) {
            seq = PyTuple_GET_ITEM(old, 0);  /* a task the Python path froze */
        }
        else {
            Py_DECREF(old);
            PyErr_SetString(PyExc_TypeError, "unexpected finished entry");
            return -1;
        }
        Py_INCREF(seq);
        Py_DECREF(old);
        /* A viewer is told to forget only what it was sent (Recorder._retire). */
        done = announce ? PyObject_CallOneArg(gone_append, seq) : Py_NewRef(Py_None);
        /* Never sent now: out of the changed-task queue at once (Recorder._retire). */
        if (Py_IS_TYPE(old, &Record_Type)) {
            changed_discard(CHANGED, RECORD(old));
        }
        Py_DECREF(seq);
        if (done == NULL) {
            return -1;
        }
        Py_DECREF(done);
        counters[C_EVICTED]++;
    }
    return 0;
}

/* Recorder._finish: the C path takes "done" and "cancelled"; a failed task (its exception
 * kept for the sender) goes to the Python method. */
static int
finish(RecordObject *record, PyObject *task, double end_t)
{
    PyObject *cancelled = task_read(task, &task_cancelled);
    if (cancelled == NULL) {
        return -1;
    }
    int is_cancelled = PyObject_IsTrue(cancelled);
    Py_DECREF(cancelled);
    if (is_cancelled < 0) {
        return -1;
    }
    if (!is_cancelled) {
        PyObject *exc = task_read(task, &task_exception);
        if (exc == NULL) {
            return -1;
        }
        Py_DECREF(exc);
        if (exc != Py_None) {
            PyObject *end = PyFloat_FromDouble(end_t);
            if (end == NULL) {
                return -1;
            }
            PyObject *done = PyObject_CallFunctionObjArgs(
                py_finish, (PyObject *)record, task, end, NULL);
            Py_DECREF(end);
            if (done == NULL) {
                return -1;
            }
            Py_DECREF(done);
            return 0;
        }
    }
    record->ended_t = end_t;
    record->waiting = 0;  /* as a frozen record reads: a finished task waits on nothing */
    PyObject *name = record->created_name;
    if (name != NULL && name == task_name(task)) {
        record->created_name = NULL;  /* moved, not touched: see task_name */
    }
    else {
        name = task_read(task, &task_get_name);
        if (name == NULL) {
            return -1;
        }
    }
    Py_SETREF(record->name, name);
    PyObject *coro = task_read(task, &task_get_coro);
    if (coro == NULL) {
        return -1;
    }
    PyObject *qualname = NULL;
#if PY_VERSION_HEX >= 0x030D0000
    int found = PyObject_GetOptionalAttr(coro, str_qualname, &qualname);
#else
    int found;
    if (PyCoro_CheckExact(coro)) {  /* the common case: read, not looked up by name */
        qualname = Py_XNewRef(((PyCoroObject *)coro)->cr_qualname);
        found = qualname != NULL;
    }
    else {
        found = _PyObject_LookupAttr(coro, str_qualname, &qualname);
    }
#endif
    Py_DECREF(coro);
    if (found < 0) {
        return -1;
    }
    Py_SETREF(record->qualname, qualname != NULL ? qualname : Py_NewRef(Py_None));
    if (!is_cancelled) {
        PyObject *result = task_read(task, &task_result);
        if (result == NULL) {
            return -1;
        }
        if (result != Py_None) {
            PyObject *text = PyObject_CallOneArg(py_short_repr, result);
            Py_DECREF(result);
            if (text == NULL) {
                return -1;
            }
            Py_SETREF(record->result, text);
        }
        else {
            Py_DECREF(result);
        }
    }
    /* Absent is fine (swept already). Not its last reference: the step holds the record. */
    Py_XDECREF(live_take(live, (void *)record->task_id));
    return is_cancelled ? retire(record, str_str_cancelled, C_CANCELLED)
                        : retire(record, str_str_done, C_DONE);
}

/* -- the step ---------------------------------------------------------------------------- */

/* After a timed step: what Recorder's Python step does after the callback. */
static int
after_step(RecordObject *record, PyObject *state, PyObject *task, double start)
{
    double end;
    if (now(&end) < 0) {
        return -1;
    }
    set_obj(state, s_current, Py_None);
    double took = end - start;
    record->busy += took;
    record->steps++;
    record->last_end = end;
    /* The longest step before finishing, so a finished task's record has its last step. */
    if (took > record->longest) {
        record->longest = took;
        if (took >= line_step_s) {
            PyObject *done = PyObject_CallFunctionObjArgs(
                py_longest_line, (PyObject *)record, task, NULL);
            if (done == NULL) {
                return -1;
            }
            Py_DECREF(done);
        }
    }
    /* A task waiting on a future is not done: one attribute read, no call. */
    PyObject *waiter = task_read(task, &task_fut_waiter);
    if (waiter == NULL) {
        return -1;
    }
    int suspended = waiter != Py_None;
    Py_DECREF(waiter);
    int finished_now = 0;
    if (!suspended) {
        PyObject *is_done = task_read(task, &task_done);
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
        record->ready_t = suspended ? 0.0 : end;
        record->waiting = (char)suspended;
    }
    if (took >= slow_s) {
        PyObject *took_f = PyFloat_FromDouble(took);
        PyObject *end_f = PyFloat_FromDouble(end);
        PyObject *done = NULL;
        if (took_f != NULL && end_f != NULL) {
            done = PyObject_CallFunctionObjArgs(
                py_slow_step, (PyObject *)record, task, took_f, end_f, NULL);
        }
        Py_XDECREF(took_f);
        Py_XDECREF(end_f);
        if (done == NULL) {
            return -1;
        }
        Py_DECREF(done);
    }
    if (!record->dirty) {  /* changed since the sender last looked: queued once */
        record->dirty = 1;
        changed_add(CHANGED, record);
    }
    return 0;
}

/* Before a timed step: the record (new reference) and its loop state (borrowed through the
 * record), the step's start; -1 on error (nothing changed that matters). */
static int
before_step(PyObject *handle, PyObject *task, RecordObject **record_out, PyObject **state_out,
            double *start_out)
{
    PyObject *found = live_get(live, task);
    if (found != NULL) {
        record_prefetch(found);
        Py_INCREF(found);
    }
    else {
        PyObject *loop = SLOT(handle, h_loop);
        found = PyObject_CallFunctionObjArgs(py_adopt, task, loop ? loop : Py_None, NULL);
        if (found == NULL) {
            return -1;
        }
    }
    if (!Py_IS_TYPE(found, &Record_Type) || !Py_IS_TYPE(RECORD(found)->loop, state_type)) {
        Py_DECREF(found);
        PyErr_SetString(PyExc_TypeError, "not a task record");
        return -1;
    }
    RecordObject *record = RECORD(found);
    PyObject *state = record->loop;
    double start;
    if (now(&start) < 0) {
        Py_DECREF(found);
        return -1;
    }
    double ready = record->ready_t;
    if (ready == 0.0) {
        ready = get_float(state, s_batch_start);
        if (ready == -1.0 && PyErr_Occurred()) {
            Py_DECREF(found);
            return -1;
        }
    }
    if (ready != 0.0 && start > ready) {
        record->scheduled += start - ready;
    }
    if (set_float(state, s_step_t, start) < 0) {
        Py_DECREF(found);
        return -1;
    }
    set_obj(state, s_current, found);
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
    /* A task's step reads its context, its step wrapper, the task, the task's slot in the
     * live table and its record: with thousands of tasks stepped in turn each is likely out
     * of the processor's caches. Asked for early, their misses overlap rather than follow
     * one another (the rest of the step's loads are prefetched as their addresses become
     * known: live_prefetch, record_prefetch). */
    if (ctx != NULL) {
        __builtin_prefetch(ctx);
    }
    if (callback != NULL) {
        __builtin_prefetch(callback);
    }
    if (!configured || callback == NULL || args == NULL || ctx == NULL
            || !PyTuple_CheckExact(args) || !PyContext_CheckExact(ctx)) {
        if (original_run == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "loopscope's hot path is not configured");
            return NULL;
        }
        return PyObject_CallOneArg(original_run, handle);
    }
    look_ahead(handle);
    /* The callback may cancel its own handle (which clears these): hold them. */
    Py_INCREF(callback);
    Py_INCREF(args);
    Py_INCREF(ctx);
    PyObject *out = NULL;
    PyObject *task = NULL;
    if (!PyFunction_Check(callback)) {
        task = bound_self(callback);
        if (task != NULL) {
            live_prefetch(live, task);
            int known = is_task(task);
            if (known < 0 && swallow() < 0) {
                goto done;
            }
            if (known <= 0) {
                Py_CLEAR(task);
            }
        }
    }
    RecordObject *record = NULL;
    PyObject *state = NULL;
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

/* A new record: the arguments as records.TaskRecord takes them (borrowed), the rest at
 * records.TaskRecord's defaults. */
/* Records freed lately, for reuse: a burst of short tasks makes and drops records at the same
 * rate, and without this their memory went back to the system and was mapped and cleared
 * again (the kernel's page clearing was a fifth of the agent's cost for 100,000 sleep(0)
 * tasks). Capped, so a program's memory falls back after a bigger burst. */
#define FREE_RECORDS_MAX 20000
static RecordObject *free_records;  /* linked through their seq field */
static Py_ssize_t n_free_records;

static RecordObject *
new_record(PyObject *seq, const void *task, PyObject *state, PyObject *parent, PyObject *code,
           int lasti, double created_t)
{
    RecordObject *record;
    if (free_records != NULL) {
        record = free_records;
        free_records = (RecordObject *)record->seq;
        n_free_records--;
        if (free_records != NULL) {  /* freed a while ago: in cache by the next task */
            record_prefetch((PyObject *)free_records);
        }
        record = (RecordObject *)PyObject_Init((PyObject *)record, &Record_Type);
    }
    else {
        record = PyObject_New(RecordObject, &Record_Type);
    }
    if (record == NULL) {
        return NULL;
    }
    record->seq = Py_NewRef(seq);
    record->task_id = (uintptr_t)task;
    record->loop = Py_NewRef(state);
    record->parent = Py_NewRef(parent);
    record->created_code = Py_NewRef(code);
    record->ended_t = Py_NAN;
    record->longest_line = Py_NewRef(Py_None);
    record->blocked = Py_NewRef(Py_None);
    record->end = Py_NewRef(Py_None);
    record->name = Py_NewRef(Py_None);
    record->qualname = Py_NewRef(Py_None);
    record->result = Py_NewRef(Py_None);
    record->exc = Py_NewRef(Py_None);
    record->error = Py_NewRef(Py_None);
    record->chain = Py_NewRef(Py_None);
    record->created_name = NULL;
    record->queued = 0;
    record->changed_prev = record->changed_next = NULL;
    record->created_t = record->ready_t = created_t;
    record->busy = record->scheduled = record->longest = record->last_end = 0.0;
    record->steps = record->finish_no = 0;
    record->chain_steps = -1;
    record->created_lasti = lasti;
    record->dirty = record->waiting = record->warned_stuck = record->sent = 0;
    return record;
}

static void
record_dealloc(RecordObject *record)
{
    Py_XDECREF(record->seq);
    Py_XDECREF(record->loop);
    Py_XDECREF(record->parent);
    Py_XDECREF(record->created_code);
    Py_XDECREF(record->longest_line);
    Py_XDECREF(record->blocked);
    Py_XDECREF(record->end);
    Py_XDECREF(record->name);
    Py_XDECREF(record->qualname);
    Py_XDECREF(record->result);
    Py_XDECREF(record->exc);
    Py_XDECREF(record->error);
    Py_XDECREF(record->chain);
    Py_XDECREF(record->created_name);
    if (n_free_records < FREE_RECORDS_MAX) {
        record->seq = (PyObject *)free_records;
        free_records = record;
        n_free_records++;
        return;
    }
    PyObject_Free(record);
}

/* TaskRecord(seq, task_id, loop, parent, code, lasti, now), as records.TaskRecord. */
static PyObject *
record_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwargs)
{
    PyObject *seq, *key, *state, *parent, *code;
    int lasti;
    double created_t;
    static char *names[] = {"seq", "task_id", "loop", "parent", "code", "lasti", "now", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!OOOid", names, &seq, &PyLong_Type, &key,
                                     &state, &parent, &code, &lasti, &created_t)) {
        return NULL;
    }
    void *task = PyLong_AsVoidPtr(key);
    if (task == NULL && PyErr_Occurred()) {
        return NULL;
    }
    return (PyObject *)new_record(seq, task, state, parent, code, lasti, created_t);
}

static PyObject *
record_repr(RecordObject *record)
{
    return PyUnicode_FromFormat("<TaskRecord #%S %S steps=%lld end=%S>", record->seq,
                                record->qualname, record->steps, record->end);
}

/* What the recorder keeps of a finished task: the record itself (records.TaskRecord keeps
 * a frozen tuple; this one is out of the collector's sight already). */
static PyObject *
record_kept(PyObject *record, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(record);
}

#define OBJECT(name) {#name, T_OBJECT, offsetof(RecordObject, name), 0, NULL}
#define NUMBER(name, kind) {#name, kind, offsetof(RecordObject, name), 0, NULL}
static PyMemberDef record_members[] = {
    OBJECT(seq), OBJECT(loop), OBJECT(parent), OBJECT(created_code), OBJECT(longest_line), OBJECT(blocked), OBJECT(end), OBJECT(name),
    OBJECT(qualname), OBJECT(result), OBJECT(exc), OBJECT(error), OBJECT(chain),
    NUMBER(created_t, T_DOUBLE), NUMBER(ready_t, T_DOUBLE), NUMBER(busy, T_DOUBLE),
    NUMBER(scheduled, T_DOUBLE), NUMBER(longest, T_DOUBLE), NUMBER(last_end, T_DOUBLE),
    NUMBER(steps, T_LONGLONG), NUMBER(finish_no, T_LONGLONG), NUMBER(chain_steps, T_LONGLONG),
    NUMBER(created_lasti, T_INT), NUMBER(dirty, T_BOOL), NUMBER(waiting, T_BOOL),
    NUMBER(warned_stuck, T_BOOL), NUMBER(sent, T_BOOL),
    {NULL, 0, 0, 0, NULL},
};
#undef OBJECT
#undef NUMBER

static PyObject *
record_get_task_id(RecordObject *record, void *Py_UNUSED(closure))
{
    return PyLong_FromVoidPtr((void *)record->task_id);
}

static PyObject *
record_get_ended_t(RecordObject *record, void *Py_UNUSED(closure))
{
    if (isnan(record->ended_t)) {
        Py_RETURN_NONE;
    }
    return PyFloat_FromDouble(record->ended_t);
}

static int
record_set_ended_t(RecordObject *record, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "ended_t cannot be deleted");
        return -1;
    }
    if (value == Py_None) {
        record->ended_t = Py_NAN;
        return 0;
    }
    double t = PyFloat_AsDouble(value);
    if (t == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    record->ended_t = t;
    return 0;
}

static PyGetSetDef record_getset[] = {
    {"task_id", (getter)record_get_task_id, NULL, "id(task) (read-only).", NULL},
    {"ended_t", (getter)record_get_ended_t, (setter)record_set_ended_t,
     "When it finished (None: not finished).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef record_methods[] = {
    {"kept", record_kept, METH_NOARGS,
     "What the recorder keeps once the task finished: this record."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Record_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "loopscope.tasks.agent._hotpath.TaskRecord",
    .tp_doc = "What the agent knows about one task (the C path's records.TaskRecord).",
    .tp_basicsize = sizeof(RecordObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = record_new,
    .tp_dealloc = (destructor)record_dealloc,
    .tp_repr = (reprfunc)record_repr,
    .tp_members = record_members,
    .tp_methods = record_methods,
    .tp_getset = record_getset,
};

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
    live_prefetch(live, task);  /* its slot, loaded while the frames are walked */
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
    PyObject *parent = (current != NULL && Py_IS_TYPE(current, &Record_Type))
        ? RECORD(current)->seq : Py_None;
    int rc = -1;
    PyObject *seq = NULL;
    RecordObject *record = NULL;
    PyObject *old = live_get(live, task);  /* borrowed */
    if (old != NULL && Py_IS_TYPE(old, &Record_Type) && RECORD(old)->end == Py_None) {
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
    record = new_record(seq, task, state, parent ? parent : Py_None,
                        code != NULL ? (PyObject *)code : Py_None, lasti, t);
    if (record == NULL) {
        goto out;
    }
    int error;
    PyObject *replaced = live_put(live, task, (PyObject *)record, &error);
    if (error < 0) {
        goto out;
    }
    record->created_name = Py_XNewRef(task_name(task));  /* in cache now, not at its end */
    counters[C_CREATED]++;
    record->dirty = 1;
    changed_add(CHANGED, record);
    rc = 0;
    Py_XDECREF(replaced);  /* the destroyed task's record, once the table is consistent */
out:
    Py_XDECREF(record);
    Py_XDECREF(seq);
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
    for (Accessor **each = task_accessors; *each != NULL; each++) {
        (*each)->call = NULL;
        (*each)->get = NULL;
    }
    Py_CLEAR(state_type);
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
    Py_CLEAR(ahead_ready);
    ahead_loop = NULL;
    name_offset = 0;
    deque_peek_ok = 0;
    Py_CLEAR(handle_type);
    Py_CLEAR(deque_type);
    /* original_run, original_create_task and py_report stay: a descriptor already handed
     * out may still be called (a loop running while the agent is uninstalled), and a step
     * that began while configured may raise after an uninstall (it is reported as
     * Handle._run would). */
    generation++;
}

/* Fill an accessor from the task type's descriptor, when it is a plain C one. */
static void
find_accessor(PyTypeObject *type, Accessor *accessor)
{
    accessor->call = NULL;
    accessor->get = NULL;
    accessor->closure = NULL;
    if (!PyType_Check((PyObject *)type) || (type->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        return;  /* the Python Task (asyncio without its C module): looked up by name */
    }
    PyObject *descr = _PyType_Lookup(type, *accessor->name);  /* borrowed */
    if (descr == NULL) {
        return;
    }
    if (Py_IS_TYPE(descr, &PyMethodDescr_Type)) {
        PyMethodDef *method = ((PyMethodDescrObject *)descr)->d_method;
        if ((method->ml_flags & ~METH_COEXIST) == METH_NOARGS) {
            accessor->call = (noargs_fn)(void (*)(void))method->ml_meth;
        }
    }
    else if (Py_IS_TYPE(descr, &PyGetSetDescr_Type)) {
        PyGetSetDef *getset = ((PyGetSetDescrObject *)descr)->d_getset;
        accessor->get = getset->get;
        accessor->closure = getset->closure;
    }
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
    PyObject *state_cls = PyDict_GetItemString(config, "state_type");
    PyObject *clock_obj = PyDict_GetItemString(config, "clock");
    PyObject *numbers = PyDict_GetItemString(config, "numbers");
    if (handle_cls == NULL || state_cls == NULL || clock_obj == NULL || numbers == NULL
            || !PyType_Check(state_cls)) {
        PyErr_SetString(PyExc_KeyError, "configure: missing types, clock or numbers");
        return NULL;
    }
    TAKE(recorder);
    PyObject *live_obj = PyDict_GetItemString(config, "live");
    if (live_obj == NULL || !Py_IS_TYPE(live_obj, &Live_Type)) {
        PyErr_SetString(PyExc_TypeError, "configure: live must be a LiveTable");
        goto fail;
    }
    Py_XSETREF(live, (LiveObject *)Py_NewRef(live_obj));
    TAKE(dirty);
    TAKE(finished);
    TAKE(gone);
    TAKE(task_types);
    TAKE(library_ids);
    TAKE(program_ids);
    TAKE(seq_counter);
    TAKE(c_task);
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
    /* Kept finished tasks: records the collector need not walk (nor frozen tuples, which
     * the Python path kept before an uninstall); the deque is in no cycle. */
    PyObject_GC_UnTrack(finished);
    if (counters_view.format == NULL || strcmp(counters_view.format, "q") != 0
            || counters_view.len != (Py_ssize_t)(N_COUNTERS * sizeof(long long))) {
        PyErr_SetString(PyExc_TypeError, "configure: counters must be array('q') of 6");
        goto fail;
    }
    if (!Py_IS_TYPE(dirty, &Changed_Type) || !PyDict_Check(task_types) || !PySet_Check(library_ids)
            || !PySet_Check(program_ids)) {
        PyErr_SetString(PyExc_TypeError, "configure: wrong container types");
        goto fail;
    }
    state_type = (PyTypeObject *)Py_NewRef(state_cls);
    PyObject *deque_cls = PyDict_GetItemString(config, "deque_type");
    if (!PyType_Check(handle_cls) || deque_cls == NULL || !PyType_Check(deque_cls)) {
        PyErr_SetString(PyExc_TypeError, "configure: handle_type and deque_type must be types");
        goto fail;
    }
    handle_type = (PyTypeObject *)Py_NewRef(handle_cls);
    deque_type = (PyTypeObject *)Py_NewRef(deque_cls);
    deque_peek_ok = deque_peek_check(deque_type);
    if (deque_peek_ok < 0) {
        goto fail;
    }
    clock_fn = clock_obj == Py_None ? NULL : Py_NewRef(clock_obj);
    if (!PyArg_ParseTuple(numbers, "ddn", &line_step_s, &slow_s, &keep_finished)) {
        goto fail;
    }
    if (slot_offset(handle_cls, "_callback", &h_callback) < 0
            || slot_offset(handle_cls, "_args", &h_args) < 0
            || slot_offset(handle_cls, "_context", &h_context) < 0
            || slot_offset(handle_cls, "_loop", &h_loop) < 0
            || slot_offset(state_cls, "current", &s_current) < 0
            || slot_offset(state_cls, "step_t", &s_step_t) < 0
            || slot_offset(state_cls, "batch_start", &s_batch_start) < 0
            || slot_offset(state_cls, "id", &s_id) < 0) {
        goto fail;
    }
    for (Accessor **each = task_accessors; *each != NULL; each++) {
        find_accessor((PyTypeObject *)c_task, *each);
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

static PyObject *
prefetching(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(configured && deque_peek_ok);
}

static PyMethodDef module_methods[] = {
    {"configure", configure, METH_O,
     "configure(dict): the recorder's objects and hooks; configure(None) drops them."},
    {"descriptors", descriptors, METH_VARARGS,
     "descriptors(Handle, BaseEventLoop) -> (Handle._run, BaseEventLoop.create_task)."},
    {"prefetching", prefetching, METH_NOARGS,
     "Whether the configured hot path reads the loop's queues in place to prefetch."},
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
    INTERN(str_ready, "_ready");
    if (PyType_Ready(&Record_Type) < 0 || PyType_Ready(&Live_Type) < 0
            || PyType_Ready(&Changed_Type) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "TaskRecord", (PyObject *)&Record_Type) < 0
            || PyModule_AddObjectRef(module, "LiveTable", (PyObject *)&Live_Type) < 0
            || PyModule_AddObjectRef(module, "ChangedQueue", (PyObject *)&Changed_Type) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
