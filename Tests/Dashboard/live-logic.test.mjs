// Following a run live: merging streamed points, deciding what to read again, new log lines.
// Run with `node --test Tests/Dashboard`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { appendPoints, behind, lastIndex, newLogLines, oneAtATime } from "../../Sources/QuillServer/Resources/Dashboard/js/live-model.js";

function series(indexes, { total } = {}) {
    return {
        key: "loss",
        index: Float64Array.from(indexes),
        step: Float64Array.from(indexes),
        time: Float64Array.from(indexes.map(() => 0)),
        value: Float64Array.from(indexes.map((i) => i / 10)),
        total: total ?? indexes.length,
        downsampled: false,
    };
}

const point = (idx, value = idx / 10) => ({ idx, step: idx * 2, timestamp: "2026-11-30T00:00:00Z", value });

test("new points are appended after the series' last index, once", () => {
    const start = series([0, 1, 2]);
    const merged = appendPoints(start, { key: "loss", total_points: 5, last_index: 4, points: [point(3), point(4)], complete: true });
    assert.deepEqual([...merged.index], [0, 1, 2, 3, 4]);
    assert.deepEqual([...merged.step], [0, 1, 2, 6, 8]);
    assert.equal(merged.total, 5);
    assert.equal(merged.appended, 2);
    assert.equal(merged.time[4], Date.parse("2026-11-30T00:00:00Z"));
    // The same event again (a reconnect, or a refetch that already had them) adds nothing.
    const again = appendPoints(merged, { key: "loss", total_points: 5, last_index: 4, points: [point(3), point(4)], complete: true });
    assert.deepEqual([...again.index], [0, 1, 2, 3, 4]);
    assert.equal(lastIndex(again), 4);
    assert.equal(start.index.length, 3, "the series given is not changed");
});

test("non-finite values arrive as strings and are kept as numbers", () => {
    const merged = appendPoints(series([0]), { key: "loss", total_points: 3, last_index: 2, points: [point(1, "NaN"), point(2, "-Infinity")], complete: true });
    assert.ok(Number.isNaN(merged.value[1]));
    assert.equal(merged.value[2], -Infinity);
});

test("an incomplete entry, or one the series cannot reach without a gap, asks for the history again", () => {
    assert.equal(appendPoints(series([0, 1]), { key: "loss", total_points: 3000, last_index: 2999, points: [], complete: false }), null);
    // The series stands for 2 points; the event brings 2 more of a metric that has 6: two were missed.
    assert.equal(appendPoints(series([0, 1]), { key: "loss", total_points: 6, last_index: 5, points: [point(4), point(5)], complete: true }), null);
    // A downsampled overview stands for its total, not its length.
    const overview = { ...series([0, 500, 999], { total: 1000 }), downsampled: true };
    const merged = appendPoints(overview, { key: "loss", total_points: 1001, last_index: 1000, points: [point(1000)], complete: true });
    assert.deepEqual([...merged.index], [0, 500, 999, 1000]);
    assert.equal(merged.total, 1001);
});

test("a state event names the metrics a page lacks or that lag, and whether the log lags", () => {
    const have = new Map([["loss", series([0, 1, 2])], ["acc", series([0, 1])]]);
    const state = {
        status: "running",
        logs: 10,
        metrics: {
            loss: { total_points: 3, last_index: 2 },
            acc: { total_points: 4, last_index: 3 },
            lr: { total_points: 1, last_index: 0 },
        },
    };
    assert.deepEqual(behind(state, have, 10), { stale: ["acc", "lr"], log: false });
    assert.deepEqual(behind(state, have, 7).log, true);
    assert.deepEqual(behind({ status: "running", logs: 0, metrics: {} }, have, 0), { stale: [], log: false });
});

test("a logs event gives only the lines past what the page shows", () => {
    const event = { logs: [{ message: "c" }, { message: "d" }, { message: "e" }], next: 5, total: 5 };
    assert.deepEqual(newLogLines(event, 2), { lines: event.logs, next: 5 });
    assert.deepEqual(newLogLines(event, 4).lines.map((l) => l.message), ["e"]);
    assert.deepEqual(newLogLines(event, 5), { lines: [], next: 5 });
    assert.deepEqual(newLogLines(event, 9), { lines: [], next: 9 }, "never moves back");
});

test("oneAtATime: calls during a run share it and make it run exactly once more; an abort stops the repeat", async () => {
    let runs = 0;
    let active = 0;
    let overlapped = false;
    let release;
    const step = oneAtATime(async () => {
        runs += 1;
        active += 1;
        if (active > 1) overlapped = true;
        if (runs === 1) await new Promise((resolve) => { release = resolve; });
        active -= 1;
    });
    const first = step();
    const second = step();
    const third = step();
    assert.equal(second, first);
    assert.equal(third, first);
    release();
    await first;
    assert.equal(runs, 2, "three calls during one run: the step runs once more, not twice more");
    assert.equal(overlapped, false);
    await step();
    assert.equal(runs, 3, "a call after the run ended starts a new run");

    const controller = new AbortController();
    let count = 0;
    let unblock;
    const stopped = oneAtATime(async () => {
        count += 1;
        if (count === 1) await new Promise((resolve) => { unblock = resolve; });
    }, controller.signal);
    const running = stopped();
    stopped();
    controller.abort();
    unblock();
    await running;
    assert.equal(count, 1, "no repeat once the signal is aborted");
});
