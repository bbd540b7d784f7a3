// The dashboard's URL scheme and run model. Run with `node --test Tests/Dashboard`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { RESERVED, route, urls } from "../../Sources/QuillServer/Resources/Dashboard/js/url.js";
import { availableFields, fieldValue, flatten, nest, prepare } from "../../Sources/QuillServer/Resources/Dashboard/js/runs-model.js";
import { number } from "../../Sources/QuillServer/Resources/Dashboard/js/api.js";

test("every page's URL routes back to that page with its parameters", () => {
    const cases = [
        [urls.projects(), "projects", {}],
        [urls.project("alice", "vision"), "project", { namespace: "alice", slug: "vision" }],
        [urls.run("alice", "vision", "a1b2c3d4"), "run", { namespace: "alice", slug: "vision", id: "a1b2c3d4" }],
        [urls.runByID("a1b2c3d4"), "runByID", { id: "a1b2c3d4" }],
        [urls.compare("alice", "vision", ["a", "b"]).split("?")[0], "compare", { namespace: "alice", slug: "vision" }],
        [urls.steps(), "steps", {}],
        [urls.step("Train", "abc123"), "step", { namespace: "Train", hash: "abc123" }],
        [urls.stats(), "stats", {}],
        [urls.signin().split("?")[0], "signin", {}],
    ];
    for (const [path, page, params] of cases) assert.deepEqual(route(path), { page, params }, path);
    assert.equal(route("/api/v1/whatever").page, "notFound");
    assert.equal(route("/assets/x").page, "notFound");
    assert.equal(route("/a/b/c/d/e").page, "notFound");
    assert.equal(route("/alice/vision/runs/%E2%9C%93").params.id, "✓");
    assert.equal(route("/alice/vision/runs/%E2%9C").params.id, "%E2%9C", "a malformed escape is kept, not thrown");
});

test("URLs carry page state as query parameters, empty values left out", () => {
    assert.equal(urls.project("a", "b", { q: "status = running", sort: "-created", columns: [] }), "/a/b?q=status+%3D+running&sort=-created");
    assert.equal(urls.compare("a", "b", ["x", "y"]), "/a/b/compare?runs=x%2Cy");
    assert.equal(urls.project("a b", "c/d"), "/a%20b/c%2Fd");
    for (const name of ["api", "assets", "healthz", "metrics", "signin", "runs", "steps", "stats"]) assert.ok(RESERVED.includes(name));
});

test("API numbers: NaN and the infinities arrive as strings", () => {
    assert.ok(Number.isNaN(number("NaN")));
    assert.equal(number("Infinity"), Infinity);
    assert.equal(number("-Infinity"), -Infinity);
    assert.equal(number(2.5), 2.5);
    assert.ok(Number.isNaN(number(null)));
    assert.ok(Number.isNaN(number("nonsense")));
});

const apiRun = (id, extra = {}) => ({
    id, name: id, status: "completed", config: { optimizer: { lr: 0.01, name: "adam" }, layers: [1, 2] },
    params: { seed: 7, optimizer: { lr: 0.02 } }, summary: { best: { acc: 0.9 } }, tags: { sweep: "s1" },
    metrics: { "train/loss": { count: 10, latest: 0.5, min: 0.25, max: "Infinity", latest_step: 9 } }, ...extra,
});

test("a run's fields are the query language's: params over config, flattened summary, metric aggregates", () => {
    assert.deepEqual(flatten({ a: { b: 1, c: { d: [1] } }, e: null }), { "a.b": 1, "a.c.d": [1], e: null });
    const run = prepare(apiRun("r1"));
    assert.equal(fieldValue(run, "params.optimizer.lr"), 0.02, "params logged after start win over config");
    assert.equal(fieldValue(run, "config.optimizer.name"), "adam");
    assert.deepEqual(fieldValue(run, "params.layers"), [1, 2]);
    assert.equal(fieldValue(run, "summary.best.acc"), 0.9);
    assert.equal(fieldValue(run, "metrics.train/loss"), 0.5);
    assert.equal(fieldValue(run, "metrics.train/loss.min"), 0.25);
    assert.equal(fieldValue(run, "metrics.train/loss.max"), Infinity);
    assert.equal(fieldValue(run, "metrics.train/loss.count"), 10);
    assert.equal(fieldValue(run, "tags.sweep"), "s1");
    assert.equal(fieldValue(run, "status"), "completed");
    assert.equal(fieldValue(run, "params.missing"), undefined);
    assert.deepEqual(availableFields([run]), [
        "metrics.train/loss", "params.layers", "params.optimizer.lr", "params.optimizer.name", "params.seed", "summary.best.acc",
    ]);
});

test("nested runs follow their parent, at any depth, children in their order; cycles and orphans stay visible", () => {
    const runs = [
        apiRun("p"), apiRun("c2", { parent: "p" }), apiRun("x"), apiRun("c1", { parent: "p" }),
        apiRun("g", { parent: "c2" }), apiRun("orphan", { parent: "gone" }),
        apiRun("loopA", { parent: "loopB" }), apiRun("loopB", { parent: "loopA" }),
    ];
    const nested = nest(runs);
    assert.deepEqual(nested.map((r) => [r.id, r.depth]), [
        ["p", 0], ["c2", 1], ["g", 2], ["c1", 1], ["x", 0], ["orphan", 0], ["loopA", 0], ["loopB", 1],
    ]);
    assert.equal(nested.length, runs.length);
});

import { differingKeys, groupKeys } from "../../Sources/QuillServer/Resources/Dashboard/js/runs-model.js";
import { parallelAxes, rampColor } from "../../Sources/QuillServer/Resources/Dashboard/js/chart/parallel.js";

test("metric keys group by their prefix, ungrouped keys first, system metrics last", () => {
    assert.deepEqual(groupKeys(["val/acc", "system/cpu_percent", "loss", "train/loss", "train/lr", "a/b/c", "zeta/x"]), [
        ["", ["loss"]], ["a/b", ["a/b/c"]], ["train", ["train/loss", "train/lr"]], ["val", ["val/acc"]], ["zeta", ["zeta/x"]],
        ["system", ["system/cpu_percent"]],
    ]);
});

test("differing keys: values that are not all equal, a missing value included", () => {
    const rows = [{ lr: 0.1, opt: "adam", seed: 1, layers: [1, 2] }, { lr: 0.1, opt: "sgd", layers: [1, 2] }, { lr: 0.1, opt: "adam", seed: 1, layers: [1, 3] }];
    assert.deepEqual(differingKeys(rows).sort(), ["layers", "opt", "seed"]);
    assert.deepEqual(differingKeys([{ a: 1 }]), []);
});

test("parallel axes: numbers on a linear axis, text as evenly spaced categories, missing values as gaps", () => {
    const runs = [
        { id: "a", values: { lr: 0.1, opt: "sgd", acc: 0.9 } },
        { id: "b", values: { lr: 0.3, opt: "adam", acc: 0.7 } },
        { id: "c", values: { lr: 0.2, acc: 0.8 } },
    ];
    const [lr, opt, acc] = parallelAxes(runs, ["lr", "opt", "acc"]);
    assert.equal(lr.kind, "number");
    assert.ok(Math.abs(lr.position(0.2) - 0.5) < 1e-12);
    assert.equal(lr.position(0.1), 0);
    assert.equal(opt.kind, "category");
    assert.deepEqual(opt.categories, ["adam", "sgd"]);
    assert.equal(opt.position("adam"), 0);
    assert.equal(opt.position("sgd"), 1);
    assert.ok(Number.isNaN(opt.position(undefined)));
    assert.ok(Number.isNaN(opt.position("rmsprop")));
    assert.equal(acc.position(0.9), 1);
    const mixed = parallelAxes([{ values: { x: 1 } }, { values: { x: "one" } }], ["x"])[0];
    assert.equal(mixed.kind, "category", "a field with text and numbers is categorical");
    const flat = parallelAxes([{ values: { x: 5 } }, { values: { x: 5 } }], ["x"])[0];
    assert.equal(flat.position(5), 0.5, "a constant is drawn in the middle");
    assert.match(rampColor(0), /^hsl\(230/);
    assert.match(rampColor(1), /^hsl\(0/);
    assert.match(rampColor(NaN), /rgba/);
});

import { parseDelimited, previewKind } from "../../Sources/QuillServer/Resources/Dashboard/js/components/preview.js";

test("CSV parsing follows RFC 4180: quoted delimiters, newlines and doubled quotes; CRLF; a row limit", () => {
    assert.deepEqual(parseDelimited('a,b\r\n"x, y","say ""hi"""\n"multi\nline",2'), [["a", "b"], ["x, y", 'say "hi"'], ["multi\nline", "2"]]);
    assert.deepEqual(parseDelimited("a\tb\n1\t2\n", "\t"), [["a", "b"], ["1", "2"]]);
    assert.deepEqual(parseDelimited("1\n2\n3\n4\n", ",", 2), [["1"], ["2"]]);
    assert.deepEqual(parseDelimited(""), []);
    assert.deepEqual(parseDelimited("a,,c"), [["a", "", "c"]]);
});

test("previews by extension: images, JSON, CSV, TSV, text; none for binaries", () => {
    assert.equal(previewKind("plots/Loss.PNG"), "image");
    assert.equal(previewKind("m.json"), "json");
    assert.equal(previewKind("events.jsonl"), "text");
    assert.equal(previewKind("t.csv"), "csv");
    assert.equal(previewKind("t.tsv"), "tsv");
    assert.equal(previewKind("train.log"), "text");
    assert.equal(previewKind("model.safetensors"), null);
    assert.equal(previewKind("Makefile"), null);
});

import { readFileSync } from "node:fs";

test("the dashboard's reserved first segments are exactly the store's reserved account names", () => {
    const swift = readFileSync(new URL("../../Sources/QuillStore/AccountStore.swift", import.meta.url), "utf8");
    const literal = swift.match(/public static let reserved: Set<String> = \[([^\]]*)\]/);
    assert.ok(literal, "AccountName.reserved is a set literal");
    const names = [...literal[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(names, [...RESERVED].sort());
});

import { fillDays } from "../../Sources/QuillServer/Resources/Dashboard/js/pages/stats.js";

test("runs per day: every day of the range, zero where nothing started, across a month end", () => {
    const days = fillDays([{ day: "2026-11-29", runs: 3 }, { day: "2026-12-01", runs: 1 }, { day: "2025-01-01", runs: 9 }], "2026-11-29", "2026-12-02");
    assert.deepEqual(days, [
        { day: "2026-11-29", runs: 3 }, { day: "2026-11-30", runs: 0 }, { day: "2026-12-01", runs: 1 }, { day: "2026-12-02", runs: 0 },
    ]);
    assert.deepEqual(fillDays([], "2026-01-02", "2026-01-01"), []);
});
