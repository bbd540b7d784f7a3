// LineChart: one canvas chart of one or more series, drawn at any length.
//
//   const chart = new LineChart(container, { label: "train/loss", xKind: "number" });
//   chart.setSeries([{ name: "run a1b2", color: "#4e79a7", x: Float64Array, y: Float64Array }]);
//
// Each redraw decimates the visible part of every series to four points a pixel column (decimate.js), so a
// million points draw in milliseconds. Drag across the chart to zoom into an x range, double-click (or
// press 0) to reset; + and - zoom and the arrow keys pan when the chart has focus. `onZoom(range)` lets the
// page fetch finer data for the new range; `setSeries` keeps the zoom. A series may carry a min–max band
// (`band: { x, lo, hi }`, e.g. the buckets of a downsampled history), shaded behind its line. Hover shows
// every series' value nearest the pointer. Colours come from the page's CSS custom properties, so the
// chart follows the light and dark themes.

import { extent, linearScale, logScale, pad, unionExtent } from "./scale.js";
import { durationTicks, formatDuration, formatTick, logTicks, niceTicks, tickStep, timeTicks } from "./ticks.js";
import { ema } from "./smoothing.js";
import { m4, minMaxBand, nearestIndex, visibleRange } from "./decimate.js";

/** Distinct colours for runs and series (Tableau 10), reused cyclically. */
export const PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
];

/** The palette colour of the `index`-th series. */
export function seriesColor(index) {
    return PALETTE[((index % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

const MARGIN = { top: 8, right: 12, bottom: 24, left: 56 };

export class LineChart {
    /**
     * @param {HTMLElement} container where the canvas and the tooltip go
     * @param {object} options `label` (accessible name), `xKind` ("number", "time" in ms since 1970, or
     *   "duration" in seconds), `logY`, `smoothing` (0 … 0.999), `onZoom(range | null)`, `height`
     */
    constructor(container, options = {}) {
        this.options = { xKind: "number", logY: false, smoothing: 0, height: 220, ...options };
        this.series = [];
        this.zoom = null;
        this.container = container;
        container.classList.add("chart");
        this.canvas = document.createElement("canvas");
        this.canvas.tabIndex = 0;
        this.canvas.setAttribute("role", "img");
        this.canvas.setAttribute("aria-label", options.label ?? "chart");
        this.canvas.style.width = "100%";
        this.canvas.style.height = `${this.options.height}px`;
        this.tooltip = document.createElement("div");
        this.tooltip.className = "chart-tooltip";
        this.tooltip.hidden = true;
        container.append(this.canvas, this.tooltip);
        this.drag = null;
        this.hoverX = null;
        this.frame = 0;
        this.listen();
        this.resizeObserver = new ResizeObserver(() => this.requestDraw());
        this.resizeObserver.observe(this.canvas);
    }

    /** Replaces the series (each `{ name, color, x, y, band? }`, x ascending) and redraws, keeping the zoom. */
    setSeries(series) {
        this.series = series.map((s, i) => ({ ...s, color: s.color ?? seriesColor(i) }));
        this.smoothed = null;
        this.requestDraw();
    }

    /** Sets the x range shown (`null` for everything) without calling `onZoom`. */
    setZoom(range) {
        this.zoom = range && range[0] < range[1] ? [range[0], range[1]] : null;
        this.requestDraw();
    }

    /** Switches the y axis between linear and logarithmic. */
    setLogY(logY) {
        this.options.logY = Boolean(logY);
        this.requestDraw();
    }

    /** Sets the EMA smoothing weight (0 turns it off). */
    setSmoothing(weight) {
        this.options.smoothing = Math.max(0, Math.min(0.999, Number(weight) || 0));
        this.smoothed = null;
        this.requestDraw();
    }

    /** Removes the chart's elements and listeners. */
    destroy() {
        this.resizeObserver.disconnect();
        cancelAnimationFrame(this.frame);
        this.canvas.remove();
        this.tooltip.remove();
    }

    /** The x range of all data (null when there is none). */
    fullXRange() {
        return unionExtent(this.series.map((s) => (s.x.length ? [s.x[0], s.x[s.x.length - 1]] : null)));
    }

    /** The number of points drawn in the last frame, summed over series (for tests and benchmarks). */
    get drawnPoints() {
        return this.lastDrawn ?? 0;
    }

    requestDraw() {
        if (this.frame) return;
        this.frame = requestAnimationFrame(() => {
            this.frame = 0;
            this.draw();
        });
    }

    smoothedValues() {
        if (!this.smoothed) {
            const w = this.options.smoothing;
            this.smoothed = this.series.map((s) => (w > 0 ? ema(s.y, w) : s.y));
        }
        return this.smoothed;
    }

    /** Draws now: axes, bands, lines, the drag selection and the hover line. */
    draw() {
        const ratio = window.devicePixelRatio || 1;
        const width = Math.max(1, this.canvas.clientWidth);
        const height = Math.max(1, this.canvas.clientHeight);
        if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
            this.canvas.width = Math.round(width * ratio);
            this.canvas.height = Math.round(height * ratio);
        }
        const ctx = this.canvas.getContext("2d");
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        ctx.clearRect(0, 0, width, height);
        const style = getComputedStyle(this.container);
        const ink = style.getPropertyValue("--chart-ink").trim() || "#555";
        const grid = style.getPropertyValue("--chart-grid").trim() || "rgba(128,128,128,0.2)";
        ctx.font = "11px system-ui, sans-serif";

        const plot = {
            left: MARGIN.left,
            top: MARGIN.top,
            right: width - MARGIN.right,
            bottom: height - MARGIN.bottom,
        };
        const full = this.fullXRange();
        if (!full || plot.right <= plot.left || plot.bottom <= plot.top) {
            ctx.fillStyle = ink;
            ctx.fillText(full ? "" : "no data", plot.left, plot.top + 14);
            this.lastDrawn = 0;
            return;
        }
        const [x0, x1] = this.zoom ?? full;
        const x = linearScale(x0, x1, plot.left, plot.right);
        const values = this.smoothedValues();
        const ranges = this.series.map((s) => visibleRange(s.x, x0, x1));
        const logY = this.options.logY;
        const yExtent = unionExtent(
            this.series.flatMap((s, i) => {
                const [i0, i1] = ranges[i];
                const band = s.band ? visibleRange(s.band.x, x0, x1) : null;
                return [
                    extent(values[i], i0, i1, logY),
                    values[i] !== s.y ? extent(s.y, i0, i1, logY) : null,
                    band ? extent(s.band.lo, band[0], band[1], logY) : null,
                    band ? extent(s.band.hi, band[0], band[1], logY) : null,
                ];
            }),
        );
        const [y0, y1] = pad(yExtent ?? [0, 1], 0.05, logY);
        const y = logY ? logScale(y0, y1, plot.bottom, plot.top) : linearScale(y0, y1, plot.bottom, plot.top);
        this.scales = { x, y, plot };

        this.drawAxes(ctx, plot, x, y, ink, grid);
        ctx.save();
        ctx.beginPath();
        ctx.rect(plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top);
        ctx.clip();
        let drawn = 0;
        this.series.forEach((s, i) => {
            if (s.band) {
                const [b0, b1] = visibleRange(s.band.x, x0, x1);
                const lo = minMaxBand(s.band.x, s.band.lo, b0, b1, x.map);
                const hi = minMaxBand(s.band.x, s.band.hi, b0, b1, x.map);
                const n = Math.min(lo.px.length, hi.px.length);
                if (n > 1) {
                    ctx.beginPath();
                    for (let k = 0; k < n; k++) ctx.lineTo(hi.px[k], y.map(hi.hi[k]));
                    for (let k = n - 1; k >= 0; k--) ctx.lineTo(lo.px[k], y.map(lo.lo[k]));
                    ctx.closePath();
                    ctx.globalAlpha = 0.18;
                    ctx.fillStyle = s.color;
                    ctx.fill();
                    ctx.globalAlpha = 1;
                }
            }
            const [i0, i1] = ranges[i];
            // With smoothing on, the raw values stay visible behind the smoothed line, faintly.
            if (values[i] !== s.y) drawn += this.strokeLine(ctx, s.x, s.y, i0, i1, x, y, s.color, 0.25);
            const line = m4(s.x, values[i], i0, i1, x.map);
            drawn += this.strokeLine(ctx, s.x, values[i], i0, i1, x, y, s.color, 1, line);
            if (line.px.length === 1 && Number.isFinite(y.map(line.ys[0]))) {
                ctx.fillStyle = s.color;
                ctx.fillRect(line.px[0] - 2, y.map(line.ys[0]) - 2, 4, 4);
            }
        });
        ctx.restore();
        this.lastDrawn = drawn;

        if (this.drag && this.drag.to !== null) {
            ctx.fillStyle = "rgba(128,128,128,0.2)";
            const a = Math.min(this.drag.from, this.drag.to);
            ctx.fillRect(a, plot.top, Math.abs(this.drag.to - this.drag.from), plot.bottom - plot.top);
        }
        if (this.hoverX !== null) {
            ctx.strokeStyle = ink;
            ctx.globalAlpha = 0.4;
            ctx.beginPath();
            ctx.moveTo(this.hoverX + 0.5, plot.top);
            ctx.lineTo(this.hoverX + 0.5, plot.bottom);
            ctx.stroke();
            ctx.globalAlpha = 1;
        }
        this.canvas.setAttribute("aria-label", this.describe());
        this.canvas.dataset.xDomain = `${x0},${x1}`; // what is shown, for tests and for the page
    }

    /** Strokes one decimated series; returns the number of points drawn. */
    strokeLine(ctx, xs, ys, i0, i1, x, y, color, alpha, decimated = m4(xs, ys, i0, i1, x.map)) {
        ctx.beginPath();
        let pen = false;
        for (let k = 0; k < decimated.px.length; k++) {
            const py = y.map(decimated.ys[k]);
            if (!Number.isFinite(py)) {
                pen = false;
                continue;
            }
            if (pen) ctx.lineTo(decimated.px[k], py);
            else ctx.moveTo(decimated.px[k], py);
            pen = true;
        }
        ctx.globalAlpha = alpha;
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5;
        ctx.stroke();
        ctx.globalAlpha = 1;
        return decimated.px.length;
    }

    drawAxes(ctx, plot, x, y, ink, grid) {
        const [x0, x1] = x.domain;
        const kind = this.options.xKind;
        const xCount = Math.max(2, Math.floor((plot.right - plot.left) / 90));
        const offset = -new Date().getTimezoneOffset();
        const xTicks =
            kind === "time" ? timeTicks(x0, x1, xCount, offset)
            : kind === "duration" ? durationTicks(x0, x1, xCount)
            : niceTicks(x0, x1, xCount);
        const xStep = tickStep(x0, x1, xCount);
        const yCount = Math.max(2, Math.floor((plot.bottom - plot.top) / 40));
        const yTicks = y.kind === "log" ? logTicks(...y.domain) : niceTicks(y.domain[0], y.domain[1], yCount);
        const yStep = y.kind === "log" ? NaN : tickStep(y.domain[0], y.domain[1], yCount);

        ctx.strokeStyle = grid;
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (const t of xTicks) {
            const px = Math.round(x.map(t)) + 0.5;
            ctx.moveTo(px, plot.top);
            ctx.lineTo(px, plot.bottom);
        }
        for (const t of yTicks) {
            const py = Math.round(y.map(t)) + 0.5;
            ctx.moveTo(plot.left, py);
            ctx.lineTo(plot.right, py);
        }
        ctx.stroke();
        ctx.fillStyle = ink;
        ctx.textAlign = "center";
        ctx.textBaseline = "top";
        for (const t of xTicks) ctx.fillText(this.formatX(t, xStep), x.map(t), plot.bottom + 6);
        ctx.textAlign = "right";
        ctx.textBaseline = "middle";
        for (const t of yTicks) ctx.fillText(formatTick(t, yStep), plot.left - 6, y.map(t));
    }

    formatX(value, step) {
        if (this.options.xKind === "time") {
            const date = new Date(value);
            const span = this.scales ? this.scales.x.domain[1] - this.scales.x.domain[0] : 0;
            if (span > 2 * 86400000) return date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
            return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
        }
        if (this.options.xKind === "duration") return formatDuration(value);
        return formatTick(value, step);
    }

    describe() {
        const label = this.options.label ?? "chart";
        const names = this.series.map((s) => s.name).join(", ");
        return `${label}: ${this.series.length} series${names ? ` (${names})` : ""}`;
    }

    listen() {
        const canvas = this.canvas;
        const pointerX = (event) => event.clientX - canvas.getBoundingClientRect().left;
        canvas.addEventListener("pointerdown", (event) => {
            if (!this.scales || event.button !== 0) return;
            canvas.setPointerCapture(event.pointerId);
            this.drag = { from: pointerX(event), to: null };
        });
        canvas.addEventListener("pointermove", (event) => {
            const px = pointerX(event);
            if (this.drag) {
                this.drag.to = px;
                this.requestDraw();
                return;
            }
            this.hover(px, event.clientY - canvas.getBoundingClientRect().top);
        });
        canvas.addEventListener("pointerup", (event) => {
            const drag = this.drag;
            this.drag = null;
            if (!drag || drag.to === null || Math.abs(drag.to - drag.from) < 4 || !this.scales) {
                this.requestDraw();
                return;
            }
            const a = this.scales.x.invert(Math.min(drag.from, drag.to));
            const b = this.scales.x.invert(Math.max(drag.from, drag.to));
            this.zoomTo([a, b]);
            void event;
        });
        canvas.addEventListener("pointerleave", () => {
            this.hoverX = null;
            this.tooltip.hidden = true;
            this.requestDraw();
        });
        canvas.addEventListener("dblclick", () => this.zoomTo(null));
        canvas.addEventListener("keydown", (event) => {
            const range = this.zoom ?? this.fullXRange();
            if (!range) return;
            const span = range[1] - range[0];
            const moves = {
                "+": [span * 0.25, -span * 0.25],
                "=": [span * 0.25, -span * 0.25],
                "-": [-span * 0.5, span * 0.5],
                ArrowLeft: [-span * 0.2, -span * 0.2],
                ArrowRight: [span * 0.2, span * 0.2],
            };
            if (event.key === "0" || event.key === "Escape") {
                this.zoomTo(null);
            } else if (moves[event.key]) {
                const [da, db] = moves[event.key];
                this.zoomTo([range[0] + da, range[1] + db]);
            } else {
                return;
            }
            event.preventDefault();
        });
    }

    zoomTo(range) {
        this.setZoom(range);
        this.options.onZoom?.(this.zoom);
    }

    hover(px, py) {
        if (!this.scales) return;
        const { x, plot } = this.scales;
        if (px < plot.left || px > plot.right) {
            this.hoverX = null;
            this.tooltip.hidden = true;
            this.requestDraw();
            return;
        }
        const at = x.invert(px);
        const values = this.smoothedValues();
        const rows = [];
        let snapped = px;
        this.series.forEach((s, i) => {
            const k = nearestIndex(s.x, at);
            if (k < 0) return;
            if (i === 0) snapped = x.map(s.x[k]);
            rows.push({ name: s.name, color: s.color, x: s.x[k], value: values[i][k], raw: s.y[k] });
        });
        this.hoverX = snapped;
        this.renderTooltip(rows, px, py);
        this.options.onHover?.(rows);
        this.requestDraw();
    }

    renderTooltip(rows, px, py) {
        if (rows.length === 0) {
            this.tooltip.hidden = true;
            return;
        }
        const table = document.createElement("table");
        const head = document.createElement("caption");
        head.textContent = this.formatX(rows[0].x, NaN);
        table.append(head);
        for (const row of rows) {
            const tr = document.createElement("tr");
            const swatch = document.createElement("td");
            swatch.className = "swatch";
            swatch.style.background = row.color;
            const name = document.createElement("td");
            name.textContent = row.name;
            const value = document.createElement("td");
            value.className = "num";
            value.textContent = formatValue(row.value);
            tr.append(swatch, name, value);
            table.append(tr);
        }
        this.tooltip.replaceChildren(table);
        this.tooltip.hidden = false;
        const box = this.container.getBoundingClientRect();
        const left = px + 16 + this.tooltip.offsetWidth > box.width ? px - 16 - this.tooltip.offsetWidth : px + 16;
        this.tooltip.style.left = `${Math.max(0, left)}px`;
        this.tooltip.style.top = `${Math.max(0, py - 10)}px`;
    }
}

/** A value as a tooltip shows it: up to 6 significant digits, NaN and infinities by name. */
export function formatValue(value) {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
    if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-4 || abs >= 1e15)) return value.toExponential(4);
    return String(Number(value.toPrecision(6)));
}
