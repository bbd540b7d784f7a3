/* An experiment, not part of the package: what one log call costs when Python reaches quill_log through a compiled
 * CPython function instead of ctypes (bench/python/compiled_call/measure.py builds and measures it). The keys are
 * the str objects' own cached UTF-8 (PyUnicode_AsUTF8: no copy after the first use), the values C doubles. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

typedef int32_t (*quill_log_fn)(void *, const char *const *, const double *, int32_t, int64_t, int32_t, char **);
typedef void (*quill_free_fn)(void *);
static quill_log_fn quill_log_ptr;
static quill_free_fn quill_free_ptr;

#define MAX_KEYS 64

static PyObject *bind(PyObject *self, PyObject *args) {
    PyObject *log_address, *free_address;
    if (!PyArg_ParseTuple(args, "OO", &log_address, &free_address)) return NULL;
    quill_log_ptr = (quill_log_fn)PyLong_AsVoidPtr(log_address);
    quill_free_ptr = (quill_free_fn)PyLong_AsVoidPtr(free_address);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

/* log(handle: int, metrics: dict, step: int | None) */
static PyObject *fast_log(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "log(handle, metrics: dict, step)");
        return NULL;
    }
    void *handle = PyLong_AsVoidPtr(args[0]);
    PyObject *metrics = args[1];
    Py_ssize_t count = PyDict_GET_SIZE(metrics);
    if (count > MAX_KEYS) {
        PyErr_SetString(PyExc_ValueError, "too many keys for the experiment");
        return NULL;
    }
    const char *keys[MAX_KEYS];
    double values[MAX_KEYS];
    Py_ssize_t position = 0, index = 0;
    PyObject *key, *value;
    while (PyDict_Next(metrics, &position, &key, &value)) {
        keys[index] = PyUnicode_AsUTF8(key);
        if (keys[index] == NULL) return NULL;
        values[index] = PyFloat_AsDouble(value);
        if (values[index] == -1.0 && PyErr_Occurred()) return NULL;
        index++;
    }
    int32_t has_step = args[2] != Py_None;
    int64_t step = has_step ? PyLong_AsLongLong(args[2]) : 0;
    if (has_step && step == -1 && PyErr_Occurred()) return NULL;
    char *error = NULL;
    int32_t status;
    Py_BEGIN_ALLOW_THREADS
    status = quill_log_ptr(handle, keys, values, (int32_t)count, step, has_step, &error);
    Py_END_ALLOW_THREADS
    if (status != 0) {
        PyErr_SetString(PyExc_RuntimeError, error ? error : "quill_log failed");
        if (error) quill_free_ptr(error);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bind", bind, METH_VARARGS, "bind(quill_log_address, quill_free_address)"},
    {"log", (PyCFunction)(void (*)(void))fast_log, METH_FASTCALL, "log(handle, metrics, step)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_quill_fastlog", NULL, -1, methods};

PyMODINIT_FUNC PyInit__quill_fastlog(void) { return PyModule_Create(&module); }
