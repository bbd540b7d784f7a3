// Parallel coordinates: one vertical axis per chosen param and one for a metric, one polyline per run,
// coloured by the metric, for reading a sweep at a glance. Numeric axes are linear over the runs' values;
// text values (an optimizer's name) get evenly spaced categories. A run missing a value leaves a gap.

import { niceTicks, formatTick, tickStep } from "./ticks.js";

/**
 * The axes for `fields` over `runs` (each run: { id, values: { field: value } }): for each field its kind
 * ("number" or "category"), its domain or categories, and a function mapping a value to [0, 1] (0 at the
 * bottom), NaN for a missing or unplaceable value.
 */
export function parallelAxes(runs, fields) {
    return fields.map((field) => {
        const values = runs.map((r) => r.values[field]).filter((v) => v !== undefined && v !== null);
        const numbers = values.filter((v) => typeof v === "number" && Number.isFinite(v));
        if (values.length > 0 && numbers.length === values.length) {
            let lo = Math.min(...numbers);
            let hi = Math.max(...numbers);
            if (lo === hi) {
                lo -= 1;
                hi += 1;
            }
            return {
                field, kind: "number", domain: [lo, hi],
                position: (v) => (typeof v === "number" && Number.isFinite(v) ? (v - lo) / (hi - lo) : NaN),
                ticks: niceTicks(lo, hi, 5).map((t) => ({ at: (t - lo) / (hi - lo), label: formatTick(t, tickStep(lo, hi, 5)) })),
            };
        }
        const categories = [...new Set(values.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))))].sort();
        const at = (i) => (categories.length === 1 ? 0.5 : i / (categories.length - 1));
        return {
            field, kind: "category", categories,
            position: (v) => {
                if (v === undefined || v === null) return NaN;
                const i = categories.indexOf(typeof v === "object" ? JSON.stringify(v) : String(v));
                return i < 0 ? NaN : at(i);
            },
            ticks: categories.map((c, i) => ({ at: at(i), label: c })),
        };
    });
}

/** A colour from blue (0) to red (1) for a position on the colour axis; grey for NaN. */
export function rampColor(t) {
    if (!Number.isFinite(t)) return "rgba(128,128,128,0.5)";
    const clamped = Math.max(0, Math.min(1, t));
    const hue = 230 - 230 * clamped;
    return `hsl(${hue.toFixed(0)}, 70%, 48%)`;
}

/**
 * Draws the runs on `canvas` over `axes` (from ``parallelAxes``); the last axis colours the lines.
 * Returns the polylines as drawn ({ id, points: [[x, y] | null] }) for hit-testing and tests.
 */
export function drawParallel(canvas, runs, axes, { ink = "#555", grid = "rgba(128,128,128,0.3)" } = {}) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600;
    const height = canvas.clientHeight || 300;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "11px system-ui, sans-serif";
    const top = 28;
    const bottom = height - 16;
    const left = 60;
    const right = width - 60;
    const xOf = (i) => (axes.length === 1 ? (left + right) / 2 : left + ((right - left) * i) / (axes.length - 1));
    const yOf = (t) => bottom - t * (bottom - top);
    const colorAxis = axes[axes.length - 1];
    const lines = runs.map((run) => ({
        id: run.id,
        color: rampColor(colorAxis ? colorAxis.position(run.values[colorAxis.field]) : NaN),
        points: axes.map((axis, i) => {
            const t = axis.position(run.values[axis.field]);
            return Number.isFinite(t) ? [xOf(i), yOf(t)] : null;
        }),
    }));
    ctx.lineWidth = 1.5;
    for (const line of lines) {
        ctx.strokeStyle = line.color;
        ctx.beginPath();
        let pen = false;
        for (const point of line.points) {
            if (!point) {
                pen = false;
                continue;
            }
            if (pen) ctx.lineTo(point[0], point[1]);
            else ctx.moveTo(point[0], point[1]);
            pen = true;
        }
        ctx.stroke();
    }
    axes.forEach((axis, i) => {
        const x = Math.round(xOf(i)) + 0.5;
        ctx.strokeStyle = grid;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.stroke();
        ctx.fillStyle = ink;
        ctx.textAlign = "center";
        ctx.textBaseline = "bottom";
        ctx.fillText(axis.field, x, top - 8);
        ctx.textAlign = "right";
        ctx.textBaseline = "middle";
        for (const tick of axis.ticks.slice(0, 12)) ctx.fillText(tick.label, x - 4, yOf(tick.at));
    });
    return lines;
}
