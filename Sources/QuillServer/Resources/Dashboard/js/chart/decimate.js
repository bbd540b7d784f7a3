// Decimation: what to draw of a long series at the chart's width. Drawing a million points costs far
// more than the pixels can show, so each pixel column keeps its first, smallest, largest and last point
// (the M4 aggregation): the drawn line is the same, spikes included, at four points a column.

/** The first index whose x is >= `x` in the ascending array `xs` (xs.length if none). */
export function lowerBound(xs, x) {
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (xs[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/** The first index whose x is > `x` in the ascending array `xs` (xs.length if none). */
export function upperBound(xs, x) {
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (xs[mid] <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/** The index of the point whose x is nearest `x` in the ascending array `xs`, or -1 when empty. */
export function nearestIndex(xs, x) {
    if (xs.length === 0) return -1;
    const i = lowerBound(xs, x);
    if (i === 0) return 0;
    if (i === xs.length) return xs.length - 1;
    return x - xs[i - 1] <= xs[i] - x ? i - 1 : i;
}

/**
 * The index range `[i0, i1)` of the points to draw for the x interval [x0, x1], one point wider on each
 * side so the line runs to the chart's edges.
 */
export function visibleRange(xs, x0, x1) {
    const i0 = Math.max(0, lowerBound(xs, x0) - 1);
    const i1 = Math.min(xs.length, upperBound(xs, x1) + 1);
    return [i0, Math.max(i0, i1)];
}

/** True when `xs` never decreases (NaN anywhere makes it false). */
export function isAscending(xs) {
    for (let i = 1; i < xs.length; i++) {
        if (!(xs[i - 1] <= xs[i])) return false;
    }
    return true;
}

/** The points sorted by x (stable), as new arrays; points whose x is not finite are dropped. */
export function sortByX(xs, ys) {
    const order = [];
    for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) order.push(i);
    order.sort((a, b) => xs[a] - xs[b] || a - b);
    const x = new Float64Array(order.length);
    const y = new Float64Array(order.length);
    order.forEach((i, j) => {
        x[j] = xs[i];
        y[j] = ys[i];
    });
    return { x, y };
}

/**
 * M4 decimation of `xs[i0..<i1]`, `ys[i0..<i1]`: for each pixel column (`Math.floor(toPixel(x))`) the
 * first, minimum, maximum and last point, in index order. A non-finite y breaks the line: it is kept as
 * one NaN entry so the drawing lifts the pen there. Returns pixel xs and data ys of the points to draw.
 */
export function m4(xs, ys, i0, i1, toPixel) {
    const px = [];
    const out = [];
    let column = NaN;
    let first = -1;
    let min = -1;
    let max = -1;
    let last = -1;
    const flush = () => {
        if (first < 0) return;
        const picks = [first, min, max, last].sort((a, b) => a - b);
        let previous = -1;
        for (const i of picks) {
            if (i === previous) continue;
            previous = i;
            px.push(toPixel(xs[i]));
            out.push(ys[i]);
        }
        first = -1;
    };
    for (let i = i0; i < i1; i++) {
        const y = ys[i];
        if (!Number.isFinite(y)) {
            flush();
            if (out.length > 0 && !Number.isNaN(out[out.length - 1])) {
                px.push(toPixel(xs[i]));
                out.push(NaN);
            }
            column = NaN;
            continue;
        }
        const c = Math.floor(toPixel(xs[i]));
        if (c !== column) {
            flush();
            column = c;
            first = min = max = last = i;
            continue;
        }
        last = i;
        if (y < ys[min]) min = i;
        if (y > ys[max]) max = i;
    }
    flush();
    return { px: Float64Array.from(px), ys: Float64Array.from(out) };
}

/**
 * Min–max bands of a downsampled history: the server returns, for each bucket, its first and last points
 * and its smallest and largest, in index order. Grouping the points per pixel column gives the band to
 * shade between the smallest and largest value, so a spike the line cannot show is still visible.
 */
export function minMaxBand(xs, ys, i0, i1, toPixel) {
    const px = [];
    const lo = [];
    const hi = [];
    let column = NaN;
    for (let i = i0; i < i1; i++) {
        const y = ys[i];
        if (!Number.isFinite(y)) continue;
        const c = Math.floor(toPixel(xs[i]));
        if (c !== column) {
            column = c;
            px.push(c);
            lo.push(y);
            hi.push(y);
            continue;
        }
        const j = lo.length - 1;
        if (y < lo[j]) lo[j] = y;
        if (y > hi[j]) hi[j] = y;
    }
    return { px: Float64Array.from(px), lo: Float64Array.from(lo), hi: Float64Array.from(hi) };
}
