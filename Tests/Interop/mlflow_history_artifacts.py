"""MLflow's real client reads metric history and moves artifacts through `quill serve`.

Usage: mlflow_history_artifacts.py URL RUN_ID ARTIFACT_URI WORKDIR

Uses only the calls that need Quill's history and artifact endpoints: `MlflowClient().get_metric_history`
(pages of 25,000) and the artifact repository of the run's `artifact_uri` (`mlflow-artifacts:/…`): log_artifact,
log_artifacts with nested folders, an empty file (sent chunked), names that need percent-encoding,
list_artifacts at each level, download_artifacts. Prints one JSON object on stdout for the Swift test to check.
"""

import hashlib
import json
import math
import os
import sys

from mlflow import MlflowClient
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
import mlflow


def value_text(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def listing(repo, path=None):
    return [[f.path, f.is_dir, f.file_size] for f in repo.list_artifacts(path)]


def main():
    url, run_id, artifact_uri, workdir = sys.argv[1:5]
    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    history = client.get_metric_history(run_id, "loss")
    seen = {
        "history": [[m.step, m.timestamp, value_text(m.value)] for m in history],
        "history_keys": sorted({m.key for m in history}),
        "missing_metric": len(client.get_metric_history(run_id, "never logged")),
    }

    source = os.path.join(workdir, "source")
    files = {
        "a b.txt": b"spaces in the name\n",
        "unicod\u00e9 \u00fc.json": "{\"caf\u00e9\": 1}\n".encode(),
        "100% sure.txt": b"percent\n",
        "plus+and&amp;=.bin": bytes(range(256)) * 40,
        "empty.txt": b"",
    }
    os.makedirs(source)
    for name, data in files.items():
        with open(os.path.join(source, name), "wb") as handle:
            handle.write(data)
    tree = os.path.join(workdir, "tree")
    nested = {
        "top.csv": b"a,b\n1,2\n",
        "sub/deep/x.yaml": b"x: 1\n",
        "sub/empty.log": b"",
        "space dir/y z.txt": b"y\n",
    }
    for relative, data in nested.items():
        path = os.path.join(tree, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)

    repo = get_artifact_repository(artifact_uri)
    for name in files:
        if name == "empty.txt":
            repo.log_artifact(os.path.join(source, name), "folder")
        else:
            repo.log_artifact(os.path.join(source, name))
    repo.log_artifacts(tree, "tree")

    seen["list_root"] = listing(repo)
    seen["list_tree"] = listing(repo, "tree")
    seen["list_sub"] = listing(repo, "tree/sub")
    seen["list_deep"] = listing(repo, "tree/sub/deep")
    seen["list_space"] = listing(repo, "tree/space dir")
    seen["list_file"] = listing(repo, "folder/empty.txt")
    seen["list_missing"] = listing(repo, "no such folder")
    seen["list_native"] = listing(repo, "native")

    out = os.path.join(workdir, "downloaded")
    os.makedirs(out)
    local = repo.download_artifacts("", out)
    downloaded = {}
    for root, _, names in os.walk(local):
        for name in names:
            path = os.path.join(root, name)
            downloaded[os.path.relpath(path, local).replace(os.sep, "/")] = sha256(path)
    seen["downloaded"] = downloaded
    expected = {name: hashlib.sha256(data).hexdigest() for name, data in files.items() if name != "empty.txt"}
    expected["folder/empty.txt"] = hashlib.sha256(b"").hexdigest()
    for relative, data in nested.items():
        expected["tree/" + relative] = hashlib.sha256(data).hexdigest()
    seen["expected"] = expected
    os.makedirs(os.path.join(workdir, "single"))
    single = repo.download_artifacts("tree/space dir/y z.txt", os.path.join(workdir, "single"))
    seen["single"] = open(single, "rb").read().decode()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
