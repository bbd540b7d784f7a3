"""quill.integrations.lightning with the real PyTorch Lightning from PyPI: a tiny real training (a 2-layer model on
random tensors, 2 epochs, CPU), read back from the run directory. Skipped, naming the package, only where torch or
Lightning is not installed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import quill
from conftest import metric_value, read_meta, read_metrics

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch): Lightning logger not tested")
pl = pytest.importorskip(
    "lightning.pytorch", reason="PyTorch Lightning is not installed (pip install lightning): Lightning logger not tested"
)

from quill.integrations.lightning import QuillLogger  # noqa: E402

BATCHES_PER_EPOCH = 4
EPOCHS = 2


class TinyRegressor(pl.LightningModule):
    """Two linear layers on random data; logs train_loss every step and val_loss every epoch."""

    def __init__(self, hidden: int = 8, lr: float = 0.05, fail_at_step: int = -1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch, batch_idx):  # noqa: ANN001, ANN201
        if self.global_step == self.hparams.fail_at_step:
            raise RuntimeError("diverged on purpose")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):  # noqa: ANN001, ANN201
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):  # noqa: ANN201
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def loaders():  # noqa: ANN201
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(BATCHES_PER_EPOCH * 8, 4, generator=generator)
    y = torch.randn(BATCHES_PER_EPOCH * 8, 1, generator=generator)
    data = torch.utils.data.TensorDataset(x, y)
    return (torch.utils.data.DataLoader(data, batch_size=8), torch.utils.data.DataLoader(data, batch_size=16))


def trainer(tmp_path: Path, logger, checkpoints: bool = False) -> "pl.Trainer":  # noqa: ANN001
    return pl.Trainer(
        max_epochs=EPOCHS, logger=logger, log_every_n_steps=1, accelerator="cpu", devices=1,
        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=checkpoints,
        default_root_dir=str(tmp_path / "lightning"),
    )


def test_lightning_fit_records_hyperparameters_metrics_and_completed(home: Path, tmp_path: Path) -> None:
    logger = QuillLogger(project="lit", name="tiny", tags=["smoke"], home=home)
    train, val = loaders()
    fit = trainer(tmp_path, logger, checkpoints=True)
    fit.fit(TinyRegressor(hidden=8, lr=0.05), train, val)

    run = logger.experiment
    assert logger.name == "lit"
    assert logger.version == run.id
    assert logger.log_dir == run.dir
    assert Path(run.dir).parent == home / "runs"
    # Lightning's checkpoints go to <default_root_dir>/<logger.name>/<logger.version>/checkpoints.
    checkpoint = Path(fit.checkpoint_callback.best_model_path)
    assert checkpoint.parent == tmp_path / "lightning" / "lit" / run.id / "checkpoints"
    assert checkpoint.is_file()

    meta = read_meta(run.dir)
    assert meta["status"] == "completed"
    assert meta["name"] == "tiny"
    assert meta["params"]["hidden"] == 8
    assert meta["params"]["lr"] == 0.05
    assert meta["params"]["fail_at_step"] == -1

    rows = read_metrics(run.dir)
    train_rows = [row for row in rows if "train_loss" in row]
    steps = BATCHES_PER_EPOCH * EPOCHS
    # Lightning logs at global steps 0..steps-1 with log_every_n_steps=1, each with the epoch.
    assert [row["step"] for row in train_rows] == list(range(steps))
    assert all(math.isfinite(metric_value(row["train_loss"])) for row in train_rows)
    assert [row["epoch"] for row in train_rows] == [step // BATCHES_PER_EPOCH for step in range(steps)]
    val_rows = [row for row in rows if "val_loss" in row]
    assert len(val_rows) == EPOCHS
    assert [row["step"] for row in val_rows] == [BATCHES_PER_EPOCH * (e + 1) - 1 for e in range(EPOCHS)]

    # The same through the package's readers, from the home.
    found = quill.runs(project="lit", home=home)
    assert [r["id"] for r in found] == [run.id]
    assert found[0]["status"] == "completed"
    assert found[0]["params"]["lr"] == 0.05
    read_back = quill.metrics(run.id, keys=["train_loss"], home=home)
    assert len([r for r in read_back if r.get("train_loss") is not None]) == steps


def test_lightning_failed_fit_finishes_the_run_failed(home: Path, tmp_path: Path) -> None:
    logger = QuillLogger(project="lit", name="diverges", home=home)
    train, val = loaders()
    with pytest.raises(RuntimeError, match="diverged on purpose"):
        trainer(tmp_path, logger).fit(TinyRegressor(fail_at_step=3), train, val)
    meta = read_meta(logger.experiment.dir)
    assert meta["status"] == "failed"
    assert "diverged on purpose" in meta["error"]
    assert [row["step"] for row in read_metrics(logger.experiment.dir) if "train_loss" in row] == [0, 1, 2]


def test_lightning_test_after_fit_logs_into_the_same_run(home: Path, tmp_path: Path) -> None:
    logger = QuillLogger(project="lit", name="fit-then-test", home=home)
    train, val = loaders()
    model = TinyRegressor()
    fit = trainer(tmp_path, logger)
    fit.fit(model, train, val)
    first_id = logger.experiment.id
    model.test_step = model.validation_step  # test logs "val_loss" once more, after the fit finished the run
    fit.test(model, val, verbose=False)
    assert logger.experiment.id == first_id
    assert [r["id"] for r in quill.runs(project="lit", home=home)] == [first_id]
    assert read_meta(logger.experiment.dir)["status"] == "completed"
    assert len([row for row in read_metrics(logger.experiment.dir) if "val_loss" in row]) == EPOCHS + 1
