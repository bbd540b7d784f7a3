"""Reads a Quill run directory with whirr's own readers and prints what it saw as JSON.

Usage: python whirr_reads_quill.py RUN_DIR
"""
import json
import math
import sys
from pathlib import Path

from whirr.run import read_meta, read_metrics

run_dir = Path(sys.argv[1])
meta = read_meta(run_dir)
metrics = read_metrics(run_dir / meta.metrics_file)
print(json.dumps({
    "id": meta.id,
    "name": meta.name,
    "status": meta.status,
    "tags": meta.tags,
    "started_at": meta.started_at,
    "summary": {k: v for k, v in (meta.summary.values if meta.summary else {}).items()},
    "git_branch": meta.git.branch if meta.git else None,
    "rows": len(metrics),
    "first_idx": metrics[0].idx if metrics else None,
    "last_idx": metrics[-1].idx if metrics else None,
    "steps": [m.step for m in metrics[:3]],
}))
