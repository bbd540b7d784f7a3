"""Schemathesis hooks for Quill's OpenAPI document.

Three query parameters of `GET /api/v1/runs` are languages or tokens that JSON Schema cannot describe, so the
document gives them formats (`quill-query`, `quill-sort`, `quill-cursor`) and this file says how to make valid
values of each. Everything else schemathesis generates from the document alone.

QUILL_ST_URL names the server; a cursor is fetched from it when the hooks load.
"""
import json
import os
import urllib.request

import schemathesis
from hypothesis import strategies as st

BASE = os.environ["QUILL_ST_URL"].rstrip("/")
HEADERS = {"Content-Type": "application/json"}
if os.environ.get("QUILL_ST_KEY"):
    HEADERS["Authorization"] = "Bearer " + os.environ["QUILL_ST_KEY"]


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=HEADERS)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


FIELDS = ["created", "started_at", "name", "status", "params.lr", "metrics.loss.min", "summary.acc", "tags.team"]
COMPARISONS = [
    "status = completed",
    "params.lr < 0.01",
    "metrics.loss.min < 0.5",
    "tags.team = vision",
    "name ~ 'base'",
    "summary.acc >= 0.9",
    "status in (running, failed)",
]

queries = st.lists(st.sampled_from(COMPARISONS), min_size=1, max_size=3).flatmap(
    lambda terms: st.sampled_from([" and ", " or "]).map(lambda joiner: joiner.join(terms))
)
sorts = st.tuples(st.sampled_from(FIELDS), st.sampled_from(["", " asc", " desc"])).map("".join)

# Two runs, so the first page of one run per page has a next cursor. The cursor belongs to the default order.
for name in ("st-cursor-a", "st-cursor-b"):
    call("POST", "/api/v1/runs", {"project": "schemathesis", "name": name})
CURSOR = call("GET", "/api/v1/runs?limit=1")["next_cursor"]
assert CURSOR, "expected a next_cursor with two runs and limit=1"

schemathesis.openapi.format("quill-query", queries)
schemathesis.openapi.format("quill-sort", sorts)
schemathesis.openapi.format("quill-cursor", st.just(CURSOR))


@schemathesis.hook
def map_query(ctx, query):
    # A cursor is valid only with the order it was made for: the one the hooks fetched uses the default.
    if query and query.get("cursor") == CURSOR:
        for name in ("sort", "q", "project"):
            query.pop(name, None)
    return query


@schemathesis.hook
def map_body(ctx, body):
    # A job claim long-polls for up to wait_seconds when nothing is queued; generated waits would only make the
    # run slow, so claims answer at once.
    if isinstance(body, dict) and isinstance(body.get("wait_seconds"), (int, float)):
        body["wait_seconds"] = 0
    return body
