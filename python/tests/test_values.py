"""Metric values and steps: the types accepted, non-finite values, and the extremes, read back from the files."""

from __future__ import annotations

import decimal
import fractions
import math
import sys
from pathlib import Path

import pytest

import quill
from conftest import metric_value, read_metrics

INT64_MAX = 2**63 - 1
STEP_MAX = 2**53 - 1


def logged(home: Path, *rows: tuple) -> list:
    """Logs each (metrics, step) row into a new run and returns metrics.jsonl's rows."""
    run = quill.init(project="values", home=home)
    for metrics, step in rows:
        run.log(metrics, step=step)
    run.finish()
    return read_metrics(run.dir)


def test_python_numbers(home: Path) -> None:
    rows = logged(home, ({"f": 0.5, "i": 3, "b": True, "neg": -7, "d": decimal.Decimal("1.25"),
                          "q": fractions.Fraction(1, 4)}, 1))
    assert rows[0]["f"] == 0.5 and rows[0]["i"] == 3 and rows[0]["b"] == 1 and rows[0]["neg"] == -7
    assert rows[0]["d"] == 1.25 and rows[0]["q"] == 0.25


def test_non_finite_values_round_trip(home: Path) -> None:
    rows = logged(home, ({"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "tiny": 5e-324,
                          "big": sys.float_info.max, "negzero": -0.0}, 0))
    row = rows[0]
    assert math.isnan(metric_value(row["nan"]))
    assert metric_value(row["inf"]) == math.inf
    assert metric_value(row["ninf"]) == -math.inf
    assert metric_value(row["tiny"]) == 5e-324
    assert metric_value(row["big"]) == sys.float_info.max
    assert metric_value(row["negzero"]) == 0.0


def test_non_finite_values_read_back_through_the_reader(home: Path) -> None:
    run = quill.init(project="values", home=home)
    run.log({"v": math.nan}, step=0)
    run.log({"v": math.inf}, step=1)
    run.log({"v": -math.inf}, step=2)
    run.finish()
    values = run.metrics().column("v")
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == -math.inf


def test_huge_and_negative_ints(home: Path) -> None:
    rows = logged(home, ({"big": 2**63, "neg": -(2**70), "max": INT64_MAX}, None))
    assert metric_value(rows[0]["big"]) == float(2**63)
    assert metric_value(rows[0]["neg"]) == float(-(2**70))
    assert metric_value(rows[0]["max"]) == float(INT64_MAX)
    run = quill.init(project="values", home=home)
    with pytest.raises(OverflowError, match="'huge'"):
        run.log({"ok": 1.0, "huge": 10**400})
    run.finish()


def test_steps_at_the_extremes(home: Path) -> None:
    # The engine keeps steps within ±(2**53 - 1), the integers every JSON reader and the server keep exactly.
    rows = logged(home, ({"x": 1.0}, STEP_MAX), ({"x": 2.0}, -STEP_MAX), ({"x": 4.0}, 0))
    assert [row["step"] for row in rows] == [STEP_MAX, -STEP_MAX, 0]
    run = quill.init(project="values", home=home)
    for step in (INT64_MAX, -(2**63), STEP_MAX + 1, -STEP_MAX - 1):
        with pytest.raises(quill.InvalidArgumentError, match="out of range") as raised:
            run.log({"x": 1.0}, step=step)
        assert raised.value.code == "invalid_argument" and isinstance(raised.value, ValueError)
        with pytest.raises(quill.InvalidArgumentError):
            run.log_batch([(step, {"x": 1.0})])
    run.log({"x": 5.0}, step=1)
    run.finish()
    assert [row["step"] for row in read_metrics(run.dir)] == [1]


def test_bad_steps_are_refused(home: Path) -> None:
    run = quill.init(project="values", home=home)
    with pytest.raises(OverflowError, match="64-bit"):
        run.log({"x": 1.0}, step=2**63)
    with pytest.raises(OverflowError):
        run.log({"x": 1.0}, step=-(2**63) - 1)
    with pytest.raises(TypeError, match="step must be an int"):
        run.log({"x": 1.0}, step=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="step must be an int"):
        run.log({"x": 1.0}, step="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="step must be an int"):
        run.log({"x": 1.0}, step=True)
    run.finish()
    assert read_metrics(run.dir) == []


def test_non_numbers_name_the_key(home: Path) -> None:
    run = quill.init(project="values", home=home)
    for bad in ("0.5", None, [1.0], {"a": 1}, 1 + 2j, object(), b"1"):
        with pytest.raises(TypeError, match="'loss'"):
            run.log({"acc": 1.0, "loss": bad})
    with pytest.raises(TypeError, match="metric keys must be str"):
        run.log({1: 1.0})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="empty"):
        run.log({"": 1.0})
    with pytest.raises(ValueError, match="NUL"):
        run.log({"a\0b": 1.0})
    for reserved in ("step", "_idx", "_timestamp"):
        with pytest.raises(quill.InvalidArgumentError, match="reserved"):
            run.log({"loss": 1.0, reserved: 2.0})
        with pytest.raises(quill.InvalidArgumentError, match="reserved"):
            run.log_batch([{reserved: 2.0}])
    run.log({"acc": 2.0, "loss": 3.0})  # the prepared key set still works after a failure
    run.finish()
    rows = read_metrics(run.dir)
    assert len(rows) == 1 and rows[0]["loss"] == 3.0


def test_objects_with_float(home: Path) -> None:
    class Meter:
        def __float__(self) -> float:
            return 0.75

    rows = logged(home, ({"m": Meter()}, 0))
    assert rows[0]["m"] == 0.75


def test_unicode_keys_and_empty_dict(home: Path) -> None:
    keys = {"café": 1.0, "损失": 2.0, "🚀/loss": 3.0, "val/acc@top-1": 4.0, "x" * 300: 5.0}
    rows = logged(home, (keys, 1), ({}, 2), ({"café": 6.0}, 3))
    assert len(rows) == 2
    assert {key: rows[0][key] for key in keys} == keys
    assert rows[1]["café"] == 6.0 and rows[1]["step"] == 3


def test_numpy_scalars_and_0d_arrays(home: Path) -> None:
    numpy = pytest.importorskip("numpy", reason="numpy is not installed in this Python")
    rows = logged(home, ({
        "f64": numpy.float64(0.5), "f32": numpy.float32(0.25), "f16": numpy.float16(2.0),
        "i64": numpy.int64(-3), "u8": numpy.uint8(200), "b": numpy.bool_(True),
        "zero_d": numpy.array(1.5), "nan": numpy.float32("nan"), "inf": numpy.array(-numpy.inf),
    }, numpy.int64(7)))
    row = rows[0]
    assert row["step"] == 7
    assert row["f64"] == 0.5 and row["f32"] == 0.25 and row["f16"] == 2.0
    assert row["i64"] == -3 and row["u8"] == 200 and row["b"] == 1 and row["zero_d"] == 1.5
    assert math.isnan(metric_value(row["nan"])) and metric_value(row["inf"]) == -math.inf
    run = quill.init(project="values", home=home)
    with pytest.raises(TypeError, match="'arr'"):
        run.log({"arr": numpy.arange(3.0)})
    run.finish()


def test_torch_0d_tensors(home: Path) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed in this Python (optional)")
    rows = logged(home, ({"loss": torch.tensor(0.5), "acc": torch.tensor(3, dtype=torch.int64),
                              "grad": torch.tensor(0.25, requires_grad=True) * 2}, 0))
    assert rows[0]["loss"] == 0.5 and rows[0]["acc"] == 3 and rows[0]["grad"] == 0.5
    run = quill.init(project="values", home=home)
    with pytest.raises(TypeError, match="'vec'"):
        run.log({"vec": torch.ones(3)})
    run.finish()


def test_torch_is_never_imported_by_quill() -> None:
    import subprocess

    from conftest import child_env

    script = "import sys, quill; import quill.run, quill.readers, quill._values; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], env=child_env(), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_tensor_that_requires_grad_logs_without_a_warning(home: Path) -> None:
    pytest.importorskip("torch", reason="torch is not installed in this Python (optional)")
    import subprocess

    from conftest import child_env

    # In a child: pytest replaces the warning filters of each test, quill's own included.
    script = (
        "import torch, quill\n"
        "run = quill.init(project='grad')\n"
        "loss = (torch.ones(3, requires_grad=True) * 0.5).sum()\n"
        "run.log({'loss': loss}, step=0)\n"
        "run.finish()\n"
        "print(run.dir)\n"
    )
    result = subprocess.run([sys.executable, "-W", "default", "-c", script], env=child_env(QUILL_HOME=str(home)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "requires_grad" not in result.stderr, result.stderr
    assert read_metrics(result.stdout.strip())[0]["loss"] == 1.5
