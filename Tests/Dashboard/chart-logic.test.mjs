// The chart module's pure logic: scales, ticks, smoothing and decimation. Run with `node --test Tests/Dashboard`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { extent, linearScale, logScale, pad, unionExtent } from "../../Sources/QuillServer/Resources/Dashboard/js/chart/scale.js";
import {
    durationTicks, formatDuration, formatTick, logTicks, niceTicks, tickStep, timeStep, timeTicks,
} from "../../Sources/QuillServer/Resources/Dashboard/js/chart/ticks.js";
import { ema } from "../../Sources/QuillServer/Resources/Dashboard/js/chart/smoothing.js";
import {
    isAscending, lowerBound, m4, minMaxBand, nearestIndex, sortByX, visibleRange,
} from "../../Sources/QuillServer/Resources/Dashboard/js/chart/decimate.js";
import { formatValue, seriesColor, PALETTE } from "../../Sources/QuillServer/Resources/Dashboard/js/chart/chart.js";

test("a linear scale maps the domain onto the range and back; a flat domain is widened around its value", () => {
    const s = linearScale(0, 10, 100, 200);
    assert.equal(s.map(0), 100);
    assert.equal(s.map(5), 150);
    assert.equal(s.invert(200), 10);
    const flat = linearScale(3, 3, 0, 100);
    assert.equal(flat.map(3), 50);
    const zero = linearScale(0, 0, 0, 100);
    assert.deepEqual(zero.domain, [-1, 1]);
    const reversed = linearScale(0, 1, 200, 0); // y grows upward
    assert.equal(reversed.map(1), 0);
});

test("a log scale maps decades evenly and values <= 0 to NaN", () => {
    const s = logScale(1, 1000, 0, 300);
    assert.ok(Math.abs(s.map(10) - 100) < 1e-9);
    assert.ok(Math.abs(s.map(100) - 200) < 1e-9);
    assert.ok(Number.isNaN(s.map(0)));
    assert.ok(Number.isNaN(s.map(-5)));
    assert.ok(Math.abs(s.invert(100) - 10) < 1e-9);
    assert.deepEqual(logScale(5, 5, 0, 1).domain, [0.5, 50]);
    assert.deepEqual(logScale(-1, 0, 0, 1).domain, [1, 10]);
});

test("extent skips NaN and infinities (and non-positive values for log axes)", () => {
    const values = Float64Array.from([NaN, 3, -Infinity, -2, 7, Infinity, 0]);
    assert.deepEqual(extent(values), [-2, 7]);
    assert.deepEqual(extent(values, 0, values.length, true), [3, 7]);
    assert.deepEqual(extent(values, 3, 5), [-2, 7]);
    assert.equal(extent(Float64Array.from([NaN, Infinity])), null);
    assert.equal(extent([]), null);
    assert.deepEqual(unionExtent([null, [1, 2], [-1, 0], null]), [-1, 2]);
    assert.equal(unionExtent([null]), null);
    assert.deepEqual(pad([0, 10], 0.1), [-1, 11]);
    const logPadded = pad([1, 100], 0.5, true);
    assert.ok(Math.abs(logPadded[0] - 0.1) < 1e-12 && Math.abs(logPadded[1] - 1000) < 1e-9);
});

test("ticks are round multiples of 1, 2 or 5 times a power of ten, printed without float noise", () => {
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0, 100, 10), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.deepEqual(niceTicks(0.1, 0.35, 5), [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
    assert.deepEqual(niceTicks(-3, 3, 3), [-2, 0, 2]);
    assert.deepEqual(niceTicks(5, 1, 4), [1, 2, 3, 4, 5]);
    assert.deepEqual(niceTicks(2, 2), [2]);
    assert.deepEqual(niceTicks(NaN, 1), []);
    assert.deepEqual(niceTicks(0, Infinity), []);
    assert.equal(tickStep(0, 1_000_000, 5), 200_000);
    const tiny = niceTicks(1e-9, 5e-9, 4);
    assert.deepEqual(tiny, [1e-9, 2e-9, 3e-9, 4e-9, 5e-9]);
    for (const [lo, hi] of [[0, 1e15], [-1e300, 1e300], [1e-300, 2e-300], [123.456, 123.457]]) {
        const ticks = niceTicks(lo, hi, 6);
        assert.ok(ticks.length >= 2 && ticks.length <= 15, `${lo}..${hi}: ${ticks.length} ticks`);
        assert.ok(ticks.every((t) => t >= lo - Math.abs(lo) * 1e-12 && t <= hi + Math.abs(hi) * 1e-12));
    }
});

test("log ticks are powers of ten, with 2 and 5 between them over few decades", () => {
    assert.deepEqual(logTicks(1, 1e6), [1, 10, 100, 1000, 10000, 100000, 1000000]);
    assert.deepEqual(logTicks(1, 100), [1, 2, 5, 10, 20, 50, 100]);
    assert.deepEqual(logTicks(0.03, 0.6), [0.05, 0.1, 0.2, 0.5]);
    assert.deepEqual(logTicks(0, 10), []);
    assert.ok(logTicks(1e-300, 1e300).length <= 40);
});

test("tick labels: k, M, G suffixes, exponents for the tiny and huge, decimals from the step", () => {
    assert.equal(formatTick(0, 1), "0");
    assert.equal(formatTick(200_000, 100_000), "200k");
    assert.equal(formatTick(1_500_000, 500_000), "1.5M");
    assert.equal(formatTick(3e9, 1e9), "3G");
    assert.equal(formatTick(0.25, 0.05), "0.25");
    assert.equal(formatTick(0.3, 0.1), "0.3");
    assert.equal(formatTick(12, 2), "12");
    assert.equal(formatTick(-0.5, 0.5), "-0.5");
    assert.equal(formatTick(2e-7, 1e-7), "2e-7");
    assert.equal(formatTick(1.5e-5, 5e-6), "1.5e-5");
    assert.equal(formatTick(1e20, 1e19), "1e20");
    assert.equal(formatTick(NaN), "NaN");
});

test("time ticks fall on round local times; durations print as 45s, 1m30s, 2h", () => {
    assert.equal(timeStep(60_000, 6), 10_000);
    assert.equal(timeStep(3_600_000 * 24, 4), 6 * 3_600_000);
    const start = Date.UTC(2026, 10, 29, 10, 7, 13);
    const ticks = timeTicks(start, start + 3_600_000, 6, 0);
    assert.ok(ticks.length >= 4 && ticks.length <= 8);
    for (const t of ticks) assert.equal(t % (10 * 60_000), 0);
    const shifted = timeTicks(start, start + 3 * 3_600_000, 3, 90); // UTC+1:30: local hours are round
    for (const t of shifted) assert.equal((t + 90 * 60_000) % 3_600_000, 0);
    assert.equal(formatDuration(45), "45s");
    assert.equal(formatDuration(90), "1m30s");
    assert.equal(formatDuration(3600), "1h");
    assert.equal(formatDuration(7500), "2h5m");
    assert.equal(formatDuration(0.25), "0.25s");
    assert.equal(formatDuration(-60), "-1m");
    assert.equal(formatDuration(90061), "1d1h");
    assert.deepEqual(durationTicks(0, 300, 5), [0, 60, 120, 180, 240, 300]);
    assert.deepEqual(durationTicks(0, 0.5, 5), [0, 0.1, 0.2, 0.3, 0.4, 0.5]);
});

test("EMA smoothing is debiased, passes NaN through untouched and is the identity at weight 0", () => {
    const constant = ema(Float64Array.from([5, 5, 5, 5]), 0.9);
    for (const v of constant) assert.ok(Math.abs(v - 5) < 1e-12, "a constant series stays constant from the first point");
    const withNaN = ema(Float64Array.from([1, NaN, 1, Infinity, 1]), 0.6);
    assert.ok(Number.isNaN(withNaN[1]));
    assert.equal(withNaN[3], Infinity);
    assert.ok(Math.abs(withNaN[4] - 1) < 1e-12);
    assert.deepEqual(Array.from(ema([1, 2, 3], 0)), [1, 2, 3]);
    const step = ema(Float64Array.from([0, 0, 0, 10, 10, 10]), 0.5);
    assert.ok(step[3] > 0 && step[3] < 10 && step[4] > step[3] && step[5] > step[4], "a step is approached gradually");
    const first = ema(Float64Array.from([7, 1]), 0.9);
    assert.equal(first[0], 7);
});

test("binary searches find the visible range and the nearest point", () => {
    const xs = Float64Array.from([0, 1, 2, 3, 4, 5]);
    assert.equal(lowerBound(xs, 2.5), 3);
    assert.equal(lowerBound(xs, -1), 0);
    assert.equal(lowerBound(xs, 9), 6);
    assert.deepEqual(visibleRange(xs, 2, 3), [1, 5]);
    assert.deepEqual(visibleRange(xs, -10, 100), [0, 6]);
    assert.deepEqual(visibleRange(xs, 10, 20), [5, 6]);
    assert.equal(nearestIndex(xs, 2.4), 2);
    assert.equal(nearestIndex(xs, 2.6), 3);
    assert.equal(nearestIndex(xs, -3), 0);
    assert.equal(nearestIndex(xs, 30), 5);
    assert.equal(nearestIndex(new Float64Array(0), 1), -1);
    assert.ok(isAscending(xs));
    assert.ok(!isAscending(Float64Array.from([0, 2, 1])));
    const sorted = sortByX(Float64Array.from([3, 1, NaN, 2]), Float64Array.from([30, 10, 99, 20]));
    assert.deepEqual(Array.from(sorted.x), [1, 2, 3]);
    assert.deepEqual(Array.from(sorted.y), [10, 20, 30]);
});

test("M4 keeps at most four points a pixel column, every spike, and the first and last point", () => {
    const n = 1_000_000;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
        xs[i] = i;
        ys[i] = Math.sin(i / 1000);
    }
    ys[123_457] = 50; // a spike one point wide
    ys[876_543] = -50;
    const width = 800;
    const toPixel = (x) => (x / n) * width;
    const started = performance.now();
    const { px, ys: drawn } = m4(xs, ys, 0, n, toPixel);
    const elapsed = performance.now() - started;
    assert.ok(px.length <= 4 * width + 4, `${px.length} points for ${width} columns`);
    assert.equal(Math.max(...drawn), 50);
    assert.equal(Math.min(...drawn), -50);
    assert.equal(drawn[0], ys[0]);
    assert.equal(drawn[drawn.length - 1], ys[n - 1]);
    for (let k = 1; k < px.length; k++) assert.ok(px[k] >= px[k - 1], "pixels advance");
    // Not a timed test: a loose bound that only catches an accidental quadratic pass.
    assert.ok(elapsed < 2000, `decimating 1M points took ${elapsed} ms`);
});

test("M4 lifts the pen at NaN and infinities, once per gap", () => {
    const xs = Float64Array.from([0, 1, 2, 3, 4, 5]);
    const ys = Float64Array.from([1, NaN, NaN, 2, Infinity, 3]);
    const { px, ys: drawn } = m4(xs, ys, 0, xs.length, (x) => x * 100);
    assert.deepEqual(Array.from(drawn).map((v) => (Number.isNaN(v) ? "gap" : v)), [1, "gap", 2, "gap", 3]);
    assert.equal(px.length, 5);
    const leading = m4(Float64Array.from([0, 1]), Float64Array.from([NaN, 4]), 0, 2, (x) => x * 10);
    assert.deepEqual(Array.from(leading.ys), [4]);
});

test("min–max bands cover each pixel column's smallest and largest value", () => {
    const xs = Float64Array.from([0, 0.2, 0.4, 1, 1.5, 2]);
    const ys = Float64Array.from([1, 5, -2, 3, NaN, 4]);
    const band = minMaxBand(xs, ys, 0, xs.length, (x) => x * 10);
    assert.deepEqual(Array.from(band.px), [0, 2, 4, 10, 20]);
    const wide = minMaxBand(xs, ys, 0, xs.length, (x) => x);
    assert.deepEqual(Array.from(wide.px), [0, 1, 2]);
    assert.deepEqual(Array.from(wide.lo), [-2, 3, 4]);
    assert.deepEqual(Array.from(wide.hi), [5, 3, 4]);
});

test("tooltip values print NaN and infinities by name and keep six significant digits", () => {
    assert.equal(formatValue(NaN), "NaN");
    assert.equal(formatValue(-Infinity), "-Infinity");
    assert.equal(formatValue(42), "42");
    assert.equal(formatValue(0.123456789), "0.123457");
    assert.equal(formatValue(1.5e-7), "1.5000e-7");
    assert.equal(seriesColor(0), PALETTE[0]);
    assert.equal(seriesColor(PALETTE.length + 1), PALETTE[1]);
    assert.equal(seriesColor(-1), PALETTE[PALETTE.length - 1]);
});

import { crossings, layeredLayout } from "../../Sources/QuillServer/Resources/Dashboard/js/chart/graph.js";

test("layered layout: dependencies left of their dependents, one column past the deepest dependency", () => {
    const nodes = ["data", "clean", "train", "eval", "report"].map((id) => ({ id }));
    const edges = [
        { from: "clean", to: "data" }, { from: "train", to: "clean" }, { from: "eval", to: "train" },
        { from: "eval", to: "data" }, { from: "report", to: "eval" }, { from: "report", to: "nowhere" },
    ];
    const layout = layeredLayout(nodes, edges);
    const layer = (id) => layout.position.get(id).layer;
    assert.deepEqual(["data", "clean", "train", "eval", "report"].map(layer), [0, 1, 2, 3, 4]);
    for (const edge of edges.filter((e) => e.to !== "nowhere")) assert.ok(layout.position.get(edge.from).x > layout.position.get(edge.to).x);
    assert.equal(layout.width, 5 * 170 + 4 * 70);
});

test("layered layout orders each column by its dependencies, so parallel chains do not cross", () => {
    // Two chains a0→a1→a2 and b0→b1→b2 whose names sort against their chains in the middle column.
    const nodes = ["a0", "b0", "z1", "y1", "a2", "b2"].map((id) => ({ id }));
    const edges = [{ from: "z1", to: "a0" }, { from: "y1", to: "b0" }, { from: "a2", to: "z1" }, { from: "b2", to: "y1" }];
    const layout = layeredLayout(nodes, edges);
    assert.equal(crossings(layout, edges), 0);
    assert.deepEqual(layout.layers[1], ["z1", "y1"], "z1 follows a0, which is above b0");
});

test("layered layout survives a cycle and an empty graph", () => {
    const cyclic = layeredLayout([{ id: "a" }, { id: "b" }], [{ from: "a", to: "b" }, { from: "b", to: "a" }]);
    assert.equal(cyclic.position.size, 2);
    const empty = layeredLayout([], []);
    assert.equal(empty.width, 0);
    assert.equal(empty.height, 0);
});
