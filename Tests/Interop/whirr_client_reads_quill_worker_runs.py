"""whirr's own client reads the runs of jobs a Quill worker ran (not whirr's worker): list, get, metrics,
artifacts.

The job logs its metrics and an artifact to its Quill run over Quill's REST API (`$QUILL_TRACKING_URI`,
`$QUILL_RUN_ID`), as the Quill SDK does. Prints what the client saw as JSON; exits non-zero when a check fails.

Usage: python whirr_client_reads_quill_worker_runs.py --url http://127.0.0.1:PORT/whirr
"""
import argparse
import json
import sys

from whirr.client import WhirrClient

LOGGER = """
import json, os, urllib.request
rows = [{"key": "loss", "value": 1.0 / (step + 1), "step": step} for step in range(5)]
rows += [{"key": "acc", "value": 0.5, "step": 4}]
request = urllib.request.Request(
    os.environ["QUILL_TRACKING_URI"].rstrip("/") + "/api/v1/runs/" + os.environ["QUILL_RUN_ID"] + "/batch",
    data=json.dumps({"metrics": rows}).encode(),
    headers={"Content-Type": "application/json"},
    method="POST",
)
urllib.request.urlopen(request).read()
upload = urllib.request.Request(
    os.environ["QUILL_TRACKING_URI"].rstrip("/") + "/api/v1/runs/" + os.environ["QUILL_RUN_ID"]
    + "/artifacts/content?path=models/weights.txt",
    data=b"weights 0.25\\n",
    headers={"Content-Type": "application/octet-stream"},
    method="PUT",
)
urllib.request.urlopen(upload).read()
print("logged", len(rows))
"""

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
args = parser.parse_args()

client = WhirrClient(args.url)
created = client.submit_job([sys.executable, "-c", LOGGER], workdir="/tmp", name="quill-worker-job", tags=["exp"])
job = client.wait_for_job(created.job_id, poll_interval=0.2, timeout=120)
run_id = f"job-{created.job_id}"
runs = client.get_runs()
run = client.get_run(run_id)
metrics = client.get_metrics(run_id)
artifacts = client.list_artifacts(run_id)
content = client.get_artifact(run_id, "models/weights.txt")
seen = {
    "job_status": job.status,
    "listed": [r.id for r in runs],
    "run": None if run is None else {"id": run.id, "status": run.status, "name": run.name, "tags": run.tags},
    "metrics": [m.model_dump(by_alias=True) for m in metrics],
    "completed_filter": [r.id for r in client.get_runs(status="completed")],
    "artifacts": [{"path": a.path, "size": a.size} for a in artifacts],
    "content": content.decode(),
}
print(json.dumps(seen))
failures = []
if job.status != "completed":
    failures.append(f"job ended {job.status}")
if run_id not in seen["listed"]:
    failures.append(f"{run_id} not listed")
if run is None:
    failures.append(f"{run_id} not found")
if [m["loss"] for m in seen["metrics"] if "loss" in m] != [1.0, 0.5, 1.0 / 3, 0.25, 0.2]:
    failures.append(f"metrics: {seen['metrics']}")
if [m["acc"] for m in seen["metrics"] if "acc" in m] != [0.5]:
    failures.append(f"metrics: {seen['metrics']}")
if seen["artifacts"] != [{"path": "models/weights.txt", "size": 13}] or seen["content"] != "weights 0.25\n":
    failures.append(f"artifacts: {seen['artifacts']} {seen['content']!r}")
if failures:
    print("; ".join(failures), file=sys.stderr)
    sys.exit(1)
