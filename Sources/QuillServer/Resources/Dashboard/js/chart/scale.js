// Scales: map a data interval onto a pixel interval and back, linearly or by powers of ten.
//
// A scale is a plain object { kind, domain, range, map(value), invert(pixel) }. Domains come from
// `extent`, which ignores NaN and infinities (and values <= 0 for a log scale) and widens a flat or
// empty domain so a constant series is still drawn in the middle of the chart.

/** A linear scale from [d0, d1] onto [r0, r1]. A flat domain is widened first. */
export function linearScale(d0, d1, r0, r1) {
    [d0, d1] = widen(d0, d1, false);
    const k = (r1 - r0) / (d1 - d0);
    return {
        kind: "linear",
        domain: [d0, d1],
        range: [r0, r1],
        map: (v) => r0 + (v - d0) * k,
        invert: (p) => d0 + (p - r0) / k,
    };
}

/** A base-10 logarithmic scale from [d0, d1] (both > 0) onto [r0, r1]; values <= 0 map to NaN. */
export function logScale(d0, d1, r0, r1) {
    [d0, d1] = widen(d0, d1, true);
    const l0 = Math.log10(d0);
    const k = (r1 - r0) / (Math.log10(d1) - l0);
    return {
        kind: "log",
        domain: [d0, d1],
        range: [r0, r1],
        map: (v) => (v > 0 ? r0 + (Math.log10(v) - l0) * k : NaN),
        invert: (p) => Math.pow(10, l0 + (p - r0) / k),
    };
}

/**
 * The smallest and largest finite value of `values[i0..<i1]` (of those > 0 when `positive`), or null
 * when there is none.
 */
export function extent(values, i0 = 0, i1 = values.length, positive = false) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = i0; i < i1; i++) {
        const v = values[i];
        if (v < lo && Number.isFinite(v) && (!positive || v > 0)) lo = v;
        if (v > hi && Number.isFinite(v) && (!positive || v > 0)) hi = v;
    }
    return lo <= hi ? [lo, hi] : null;
}

/** The union of several extents (nulls skipped), or null when all are null. */
export function unionExtent(extents) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const e of extents) {
        if (!e) continue;
        if (e[0] < lo) lo = e[0];
        if (e[1] > hi) hi = e[1];
    }
    return lo <= hi ? [lo, hi] : null;
}

/** Adds `fraction` of the span on both sides (a flat domain is widened first). */
export function pad([lo, hi], fraction, log = false) {
    [lo, hi] = widen(lo, hi, log);
    if (log) {
        const l0 = Math.log10(lo);
        const l1 = Math.log10(hi);
        const d = (l1 - l0) * fraction;
        return [Math.pow(10, l0 - d), Math.pow(10, l1 + d)];
    }
    const d = (hi - lo) * fraction;
    return [lo - d, hi + d];
}

function widen(lo, hi, log) {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || (log && (lo <= 0 || hi <= 0))) {
        return log ? [1, 10] : [0, 1];
    }
    if (lo > hi) [lo, hi] = [hi, lo];
    if (lo === hi) {
        if (log) return [lo / 10, hi * 10];
        const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
        return [lo - d, hi + d];
    }
    return [lo, hi];
}
