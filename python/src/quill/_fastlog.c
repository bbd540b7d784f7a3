/* quill._fastlog: Run.log's compiled fast path (optional; the package falls back to ctypes without it).
 *
 * One CPython function calls libQuillC's quill_log with the row's keys and values in C arrays, skipping ctypes'
 * argument conversion (about half of a log call's cost). The extension does not link against libQuillC: at
 * import, quill/_fast.py hands it the addresses of quill_log and quill_free from the library ctypes loaded
 * (bind), so both paths call the one loaded copy.
 *
 * log(handle: int, metrics: dict, step: int | None) returns
 *   0     the row was logged;
 *   1     the row was NOT handled (nothing was logged): a key or value or step this function does not take as
 *         is (not a plain dict, a non-str or reserved or empty key, a value without __float__, an overflowing
 *         step, ...). The caller then logs the row through the ctypes path, which raises the same exception, with
 *         the same message, as without this extension: the two paths cannot disagree on errors.
 *   str   quill_log refused the row (status 1): the error JSON {"code", "message"}, for the caller to raise.
 *
 * Lifetime: the keys' UTF-8 buffers belong to the key str objects and the values are copied into doubles. The
 * function takes a strong reference to every key before it releases the GIL and drops them after quill_log
 * returns, so another thread mutating the dict during the call cannot free a buffer quill_log is reading.
 * The dict is read with PyDict_Next while the GIL is held; value conversion (which may run Python code, e.g. a
 * __float__) happens on the collected references, not while iterating. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef int32_t (*quill_log_fn)(void *, const char *const *, const double *, int32_t, int64_t, int32_t, char **);
typedef void (*quill_free_fn)(void *);

static quill_log_fn quill_log_ptr = NULL;
static quill_free_fn quill_free_ptr = NULL;

/* Rows up to this many keys use stack arrays; bigger ones allocate. */
#define STACK_KEYS 32

static PyObject *fast_bind(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "bind(quill_log_address, quill_free_address) takes 2 arguments");
        return NULL;
    }
    void *log_address = PyLong_AsVoidPtr(args[0]);
    if (log_address == NULL && PyErr_Occurred()) return NULL;
    void *free_address = PyLong_AsVoidPtr(args[1]);
    if (free_address == NULL && PyErr_Occurred()) return NULL;
    if (log_address == NULL || free_address == NULL) {
        PyErr_SetString(PyExc_ValueError, "bind: an address is NULL");
        return NULL;
    }
    quill_log_ptr = (quill_log_fn)log_address;
    quill_free_ptr = (quill_free_fn)free_address;
    Py_RETURN_NONE;
}

/* The keys the engine reserves (check_key in _values.py refuses them with InvalidArgumentError). */
static int is_reserved(const char *key, Py_ssize_t length) {
    return (length == 4 && memcmp(key, "step", 4) == 0) || (length == 4 && memcmp(key, "_idx", 4) == 0) ||
           (length == 10 && memcmp(key, "_timestamp", 10) == 0);
}

static PyObject *not_handled(void) { return PyLong_FromLong(1); }

/* Logs one row: 0 (logged), 1 (not handled, nothing logged), the error JSON (str), or NULL with an exception set.
 * The caller holds the GIL and keeps metrics and step alive. With plain_values_only, a value that is not a float
 * (or subclass: NumPy's float64) or an exact int is not handled: converting it could run Python code (a tensor's
 * __float__) that warns, and the warning must come from quill.run's frame, where the package filters it. */
static PyObject *log_row(void *handle, PyObject *metrics, PyObject *step_object, int plain_values_only) {
    if (quill_log_ptr == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "quill._fastlog is not bound to libQuillC (call bind first)");
        return NULL;
    }
    if (!PyDict_CheckExact(metrics)) return not_handled(); /* other mappings: the ctypes path reads them */

    int32_t has_step = 0;
    long long step = 0;
    if (step_object != Py_None) {
        if (!PyLong_CheckExact(step_object)) return not_handled(); /* bool, NumPy ints, ...: _check_step */
        int overflow = 0;
        step = PyLong_AsLongLongAndOverflow(step_object, &overflow);
        if (overflow != 0 || (step == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return not_handled(); /* the ctypes path raises its OverflowError */
        }
        has_step = 1;
    }

    Py_ssize_t count = PyDict_GET_SIZE(metrics);
    if (count > INT32_MAX) return not_handled();
    PyObject *stack_objects[2 * STACK_KEYS];
    const char *stack_keys[STACK_KEYS];
    double stack_values[STACK_KEYS];
    PyObject **objects = stack_objects; /* keys at [0, count), values at [count, 2 * count) */
    const char **keys = stack_keys;
    double *values = stack_values;
    void *heap = NULL;
    if (count > STACK_KEYS) {
        size_t bytes = (size_t)count * (2 * sizeof(PyObject *) + sizeof(const char *) + sizeof(double));
        heap = PyMem_Malloc(bytes);
        if (heap == NULL) return PyErr_NoMemory();
        objects = (PyObject **)heap;
        keys = (const char **)(objects + 2 * count);
        values = (double *)(keys + count);
    }

    /* 1. Collect strong references under the GIL, running no Python code while iterating. */
    Py_ssize_t position = 0, taken = 0;
    PyObject *key, *value;
    while (taken < count && PyDict_Next(metrics, &position, &key, &value)) {
        Py_INCREF(key);
        Py_INCREF(value);
        objects[taken] = key;
        objects[count + taken] = value;
        taken++;
    }
    PyObject *result = NULL;
    if (taken != count) { /* cannot happen without Python code running; be safe */
        result = not_handled();
        goto done;
    }

    /* 2. Keys: exact str, non-empty, not reserved, no NUL, encodable as UTF-8 (else the ctypes path raises). */
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *k = objects[i];
        if (!PyUnicode_CheckExact(k)) {
            result = not_handled();
            goto done;
        }
        Py_ssize_t length = 0;
        const char *utf8 = PyUnicode_AsUTF8AndSize(k, &length);
        if (utf8 == NULL) {
            PyErr_Clear(); /* e.g. a lone surrogate */
            result = not_handled();
            goto done;
        }
        if (length == 0 || is_reserved(utf8, length) || strlen(utf8) != (size_t)length) {
            result = not_handled();
            goto done;
        }
        keys[i] = utf8;
    }

    /* 3. Values: PyFloat_AsDouble, the conversion the ctypes path's struct.pack("d") uses (float and subclasses
     * directly, else __float__, else __index__). A failure is left to the ctypes path, which names the key. */
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *v = objects[count + i];
        double d;
        if (PyFloat_CheckExact(v)) {
            d = PyFloat_AS_DOUBLE(v);
        } else if (plain_values_only && !PyFloat_Check(v) && !PyLong_CheckExact(v)) {
            result = not_handled();
            goto done;
        } else {
            d = PyFloat_AsDouble(v);
            if (d == -1.0 && PyErr_Occurred()) {
                PyErr_Clear();
                result = not_handled();
                goto done;
            }
        }
        values[i] = d;
    }

    /* 4. The call, with the GIL released: the references taken above keep every key's buffer alive. */
    {
        char *error = NULL;
        int32_t status;
        Py_BEGIN_ALLOW_THREADS
        status = quill_log_ptr(handle, keys, values, (int32_t)count, (int64_t)step, has_step, &error);
        Py_END_ALLOW_THREADS
        if (status == 0) {
            result = PyLong_FromLong(0);
        } else {
            const char *text = error != NULL ? error : "{\"code\": \"unknown\", \"message\": \"log failed\"}";
            result = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
            if (error != NULL && quill_free_ptr != NULL) quill_free_ptr(error);
        }
    }

done:
    for (Py_ssize_t i = 0; i < taken; i++) {
        Py_DECREF(objects[i]);
        Py_DECREF(objects[count + i]);
    }
    if (heap != NULL) PyMem_Free(heap);
    return result;
}

static PyObject *fast_log(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "log(handle, metrics, step) takes 3 arguments");
        return NULL;
    }
    void *handle = PyLong_AsVoidPtr(args[0]);
    if (handle == NULL) {
        if (PyErr_Occurred()) return NULL;
        return not_handled();
    }
    return log_row(handle, args[1], args[2], 0);
}

/* LogCall: a run's bound log call, `run.log(metrics, step=None)` in C, with no Python frame per call. It holds the
 * run's handle, a weak reference to the Run (so it never keeps a run alive, and refuses to use a released handle)
 * and the fallback `Run.log` (the ctypes path), which it calls for a row it does not take as is or that the engine
 * refused: that path logs it or raises the same exception as always. */
typedef struct {
    PyObject_HEAD
    void *handle;
    PyObject *run_ref;
    PyObject *fallback;
    vectorcallfunc vectorcall;
} LogCall;

static PyObject *log_call_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    LogCall *call = (LogCall *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *metrics = nargs > 0 ? args[0] : NULL;
    PyObject *step = nargs > 1 ? args[1] : NULL;
    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError, "log() takes at most 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (kwnames != NULL) {
        Py_ssize_t count = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *name = PyTuple_GET_ITEM(kwnames, i);
            PyObject **slot = NULL;
            if (PyUnicode_CompareWithASCIIString(name, "step") == 0) slot = &step;
            else if (PyUnicode_CompareWithASCIIString(name, "metrics") == 0) slot = &metrics;
            if (slot == NULL) {
                PyErr_Format(PyExc_TypeError, "log() got an unexpected keyword argument '%U'", name);
                return NULL;
            }
            if (*slot != NULL) {
                PyErr_Format(PyExc_TypeError, "log() got multiple values for argument '%U'", name);
                return NULL;
            }
            *slot = args[nargs + i];
        }
    }
    if (metrics == NULL) {
        PyErr_SetString(PyExc_TypeError, "log() missing 1 required argument: 'metrics'");
        return NULL;
    }
    if (step == NULL) step = Py_None;
    /* A strong reference to the run for the call: its handle stays valid until the end. */
#if PY_VERSION_HEX >= 0x030D0000
    PyObject *run = NULL;
    if (PyWeakref_GetRef(call->run_ref, &run) < 0) return NULL;
#else
    PyObject *run = PyWeakref_GetObject(call->run_ref); /* borrowed */
    if (run == NULL) return NULL;
    if (run == Py_None) run = NULL;
    else Py_INCREF(run);
#endif
    if (run == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "this run's handle was released with its Run object; keep the Run while logging");
        return NULL;
    }
    PyObject *result = log_row(call->handle, metrics, step, 1);
    PyObject *answer = NULL;
    if (result != NULL) {
        int logged = PyLong_CheckExact(result) && PyLong_AsLong(result) == 0;
        Py_DECREF(result);
        if (logged) {
            Py_INCREF(Py_None);
            answer = Py_None;
        } else {
            answer = PyObject_CallFunctionObjArgs(call->fallback, run, metrics, step, NULL);
        }
    }
    Py_DECREF(run);
    return answer;
}

static void log_call_dealloc(PyObject *self) {
    LogCall *call = (LogCall *)self;
    Py_XDECREF(call->run_ref);
    Py_XDECREF(call->fallback);
    PyObject_Free(self);
}

static PyTypeObject LogCallType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "quill._fastlog.LogCall",
    .tp_basicsize = sizeof(LogCall),
    .tp_dealloc = log_call_dealloc,
    .tp_vectorcall_offset = offsetof(LogCall, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "run.log(metrics, step=None): a run's log call in C (see quill.Run.log).",
};

/* log_call(handle, run_weakref, fallback) -> LogCall. */
static PyObject *fast_log_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "log_call(handle, run_weakref, fallback) takes 3 arguments");
        return NULL;
    }
    if (quill_log_ptr == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "quill._fastlog is not bound to libQuillC (call bind first)");
        return NULL;
    }
    void *handle = PyLong_AsVoidPtr(args[0]);
    if (handle == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "log_call: the handle is NULL");
        return NULL;
    }
    if (!PyWeakref_CheckRef(args[1]) || !PyCallable_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "log_call(handle, run_weakref, fallback): a weakref.ref and a callable");
        return NULL;
    }
    LogCall *call = PyObject_New(LogCall, &LogCallType);
    if (call == NULL) return NULL;
    call->handle = handle;
    Py_INCREF(args[1]);
    call->run_ref = args[1];
    Py_INCREF(args[2]);
    call->fallback = args[2];
    call->vectorcall = log_call_vectorcall;
    return (PyObject *)call;
}

static PyMethodDef methods[] = {
    {"bind", (PyCFunction)(void (*)(void))fast_bind, METH_FASTCALL,
     "bind(quill_log_address, quill_free_address): the functions of the libQuillC that ctypes loaded."},
    {"log", (PyCFunction)(void (*)(void))fast_log, METH_FASTCALL,
     "log(handle, metrics, step) -> 0 (logged), 1 (not handled: use the ctypes path) or the error JSON (str)."},
    {"log_call", (PyCFunction)(void (*)(void))fast_log_call, METH_FASTCALL,
     "log_call(handle, run_weakref, fallback) -> a run's log call in C (LogCall), fallback(run, metrics, step) for "
     "a row it leaves to the ctypes path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "quill._fastlog", "Run.log's compiled fast path over libQuillC's quill_log.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastlog(void) {
    if (PyType_Ready(&LogCallType) < 0) return NULL;
    return PyModule_Create(&module);
}
