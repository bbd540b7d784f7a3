"""quill.integrations.huggingface with the real transformers (and accelerate) from PyPI: a tiny real Trainer run (a
2-layer model on random tensors, 2 epochs, CPU), read back from the run directory. Skipped, naming the package, only
where torch, transformers or accelerate is not installed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import quill
from conftest import metric_value, read_meta, read_metrics

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch): Hugging Face callback not tested")
transformers = pytest.importorskip(
    "transformers", reason="transformers is not installed (pip install transformers): Hugging Face callback not tested"
)
pytest.importorskip(
    "accelerate", reason="accelerate is not installed (pip install accelerate; Trainer needs it): callback not tested"
)

from quill.integrations.huggingface import QuillCallback  # noqa: E402

EXAMPLES = 32
BATCH = 8
EPOCHS = 2
STEPS = EXAMPLES // BATCH * EPOCHS


class TinyConfig(transformers.PretrainedConfig):
    model_type = "quill-tiny-regressor"

    def __init__(self, hidden: int = 8, **kwargs) -> None:  # noqa: ANN003
        self.hidden = hidden
        super().__init__(**kwargs)


class TinyRegressor(transformers.PreTrainedModel):
    """Two linear layers; returns the MSE loss the Trainer minimises."""

    config_class = TinyConfig

    def __init__(self, config: TinyConfig) -> None:
        super().__init__(config)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, config.hidden), torch.nn.ReLU(), torch.nn.Linear(config.hidden, 1)
        )
        self.post_init()

    def _init_weights(self, module) -> None:  # noqa: ANN001
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.normal_(module.weight, std=0.1)
            torch.nn.init.zeros_(module.bias)

    def forward(self, x=None, labels=None):  # noqa: ANN001, ANN201
        prediction = self.net(x)
        loss = torch.nn.functional.mse_loss(prediction, labels)
        return {"loss": loss, "logits": prediction}


class RandomData(torch.utils.data.Dataset):
    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(EXAMPLES, 4, generator=generator)
        self.y = torch.randn(EXAMPLES, 1, generator=generator)

    def __len__(self) -> int:
        return EXAMPLES

    def __getitem__(self, index: int) -> dict:
        return {"x": self.x[index], "labels": self.y[index]}


def make_trainer(tmp_path: Path, callback) -> "transformers.Trainer":  # noqa: ANN001
    torch.manual_seed(0)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), num_train_epochs=EPOCHS, per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=16, learning_rate=0.05, logging_steps=1, eval_strategy="epoch",
        save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True, dataloader_num_workers=0,
    )
    return transformers.Trainer(
        model=TinyRegressor(TinyConfig(hidden=8)), args=args, train_dataset=RandomData(), eval_dataset=RandomData(),
        callbacks=[callback],
    )


def test_huggingface_trainer_records_config_metrics_and_completed(home: Path, tmp_path: Path) -> None:
    callback = QuillCallback(project="hf", name="tiny", tags=["smoke"], home=home)
    trainer = make_trainer(tmp_path, callback)
    trainer.train()

    run = callback.run
    assert run is not None and run.finished
    assert Path(run.dir).parent == home / "runs"
    meta = read_meta(run.dir)
    assert meta["status"] == "completed"
    assert meta["name"] == "tiny"
    assert run.config["num_train_epochs"] == EPOCHS
    assert run.config["learning_rate"] == 0.05
    assert run.config["model"]["hidden"] == 8
    assert run.config["model"]["model_type"] == "quill-tiny-regressor"

    rows = read_metrics(run.dir)
    train_rows = [row for row in rows if "loss" in row]
    # logging_steps=1: one row of loss, learning_rate, grad_norm and epoch at every global step 1..STEPS.
    assert [row["step"] for row in train_rows] == list(range(1, STEPS + 1))
    assert all(math.isfinite(metric_value(row["loss"])) for row in train_rows)
    assert all("learning_rate" in row for row in train_rows)
    eval_rows = [row for row in rows if "eval_loss" in row]
    assert [row["step"] for row in eval_rows] == [STEPS // EPOCHS * (e + 1) for e in range(EPOCHS)]
    # The end-of-training log (train_runtime, train_loss, ...) is a row too; its strings are left out.
    assert any("train_runtime" in row for row in rows)

    found = quill.runs(project="hf", home=home)
    assert [r["id"] for r in found] == [run.id]
    assert found[0]["status"] == "completed"
    assert found[0]["config"]["model"]["hidden"] == 8
    read_back = quill.metrics(run.id, keys=["loss"], home=home)
    assert len([r for r in read_back if r.get("loss") is not None]) == STEPS


def test_huggingface_evaluate_after_train_logs_into_the_same_run(home: Path, tmp_path: Path) -> None:
    callback = QuillCallback(project="hf", name="train-then-eval", home=home)
    trainer = make_trainer(tmp_path, callback)
    trainer.train()
    run_id = callback.run.id
    metrics = trainer.evaluate()
    assert callback.run.id == run_id
    assert [r["id"] for r in quill.runs(project="hf", home=home)] == [run_id]
    assert read_meta(callback.run.dir)["status"] == "completed"
    eval_rows = [row for row in read_metrics(callback.run.dir) if "eval_loss" in row]
    assert len(eval_rows) == EPOCHS + 1
    assert metric_value(eval_rows[-1]["eval_loss"]) == pytest.approx(metrics["eval_loss"])
