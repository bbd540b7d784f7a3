// Axis ticks: where to put about `count` round values on an axis, and how to print them.
//
// Linear ticks are multiples of 1, 2 or 5 times a power of ten (the steps people read at a glance),
// computed as integer multiples so 0.1 + 0.2 never shows as 0.30000000000000004. Log ticks are powers of
// ten, with 2 and 5 between them when there are few decades. Time ticks fall on round seconds, minutes,
// hours or days; duration ticks print as 90s, 1m30s, 2h.

const E10 = Math.sqrt(50);
const E5 = Math.sqrt(10);
const E2 = Math.sqrt(2);

/** The tick step for about `count` ticks over [lo, hi]: 1, 2 or 5 times a power of ten. */
export function tickStep(lo, hi, count = 5) {
    const raw = Math.abs(hi - lo) / Math.max(1, count);
    if (!(raw > 0) || !Number.isFinite(raw)) return NaN;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const error = raw / power;
    if (error >= E10) return power * 10;
    if (error >= E5) return power * 5;
    if (error >= E2) return power * 2;
    return power;
}

/** The decimals needed to print multiples of `step` exactly (0 for steps >= 1). */
export function stepDecimals(step) {
    if (!(step > 0) || !Number.isFinite(step)) return 0;
    return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** Round values in [lo, hi], about `count` of them, at most 1,000. */
export function niceTicks(lo, hi, count = 5) {
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
    if (lo > hi) [lo, hi] = [hi, lo];
    if (lo === hi) return [lo];
    const step = tickStep(lo, hi, count);
    if (!(step > 0)) return [];
    const first = Math.ceil(lo / step - 1e-9);
    const last = Math.floor(hi / step + 1e-9);
    if (last - first > 1000) return [];
    const decimals = stepDecimals(step);
    const ticks = [];
    for (let k = first; k <= last; k++) {
        const v = k * step;
        // toFixed rounds away float noise (0.30000000000000004); it takes at most 100 decimals. + 0: no -0.
        ticks.push((decimals === 0 ? Math.round(v) : decimals <= 100 ? Number(v.toFixed(decimals)) : v) + 0);
    }
    return ticks;
}

/** Powers of ten in [lo, hi] (lo > 0); with fewer than three decades, 2× and 5× too. */
export function logTicks(lo, hi) {
    if (!(lo > 0) || !(hi > 0) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
    if (lo > hi) [lo, hi] = [hi, lo];
    const p0 = Math.floor(Math.log10(lo));
    const p1 = Math.ceil(Math.log10(hi));
    if (p1 - p0 > 300) return [];
    const multiples = p1 - p0 < 3 ? [1, 2, 5] : [1];
    const ticks = [];
    const stride = Math.max(1, Math.ceil((p1 - p0) / 10));
    for (let p = p0; p <= p1; p += stride) {
        for (const m of multiples) {
            const v = Number((m * Math.pow(10, p)).toPrecision(12));
            if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12)) ticks.push(v);
        }
    }
    return ticks;
}

const SUFFIXES = [
    [1e12, "T"],
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
];

/**
 * A tick value as short text for an axis whose ticks are `step` apart: thousands as k, M, G, T
 * (200k, 1.5M), tiny or huge values in exponent form (1e-7), otherwise as many decimals as the step needs.
 */
export function formatTick(value, step = NaN) {
    if (value === 0) return "0";
    if (!Number.isFinite(value)) return String(value);
    const abs = Math.abs(value);
    if (abs >= 1e15 || abs < 1e-4) {
        return trimExponent(value.toExponential(Math.min(6, exponentDigits(value, step))));
    }
    for (const [scale, suffix] of SUFFIXES) {
        if (abs >= scale) {
            const decimals = Number.isFinite(step) ? stepDecimals(step / scale) : 2;
            return trimZeros((value / scale).toFixed(Math.min(decimals, 6))) + suffix;
        }
    }
    const decimals = Number.isFinite(step) ? stepDecimals(step) : 6;
    return trimZeros(value.toFixed(Math.min(decimals, 12)));
}

function exponentDigits(value, step) {
    if (!Number.isFinite(step) || !(step > 0)) return 3;
    const magnitude = Math.floor(Math.log10(Math.abs(value)));
    return Math.max(0, magnitude - Math.floor(Math.log10(step)));
}

function trimZeros(text) {
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

function trimExponent(text) {
    const [mantissa, exponent] = text.split("e");
    return trimZeros(mantissa) + "e" + exponent.replace("+", "");
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
    1, 2, 5, 10, 20, 50, 100, 200, 500,
    SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
    MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
    HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
    DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY,
];

/** A round step in milliseconds (1 ms … 30 days) for about `count` ticks over a span of `spanMs`. */
export function timeStep(spanMs, count = 5) {
    const raw = Math.abs(spanMs) / Math.max(1, count);
    for (const step of TIME_STEPS) if (step >= raw) return step;
    return Math.ceil(raw / (30 * DAY)) * 30 * DAY;
}

/**
 * Ticks for a wall-clock axis in milliseconds since 1970, on round local times (`offsetMinutes` is the
 * zone's offset from UTC, as `-new Date().getTimezoneOffset()` gives it; 0 for UTC).
 */
export function timeTicks(lo, hi, count = 5, offsetMinutes = 0) {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo === hi) return Number.isFinite(lo) ? [lo] : [];
    if (lo > hi) [lo, hi] = [hi, lo];
    const step = timeStep(hi - lo, count);
    const offset = offsetMinutes * MINUTE;
    const ticks = [];
    for (let t = Math.ceil((lo + offset) / step) * step; t <= hi + offset && ticks.length <= 1000; t += step) {
        ticks.push(t - offset);
    }
    return ticks;
}

/** A duration in seconds as short text: 45s, 1m30s, 2h5m, 3d4h (fractions of a second as 0.25s). */
export function formatDuration(seconds) {
    if (!Number.isFinite(seconds)) return String(seconds);
    const sign = seconds < 0 ? "-" : "";
    let s = Math.abs(seconds);
    if (s < 60) return sign + trimZeros(s.toFixed(s < 1 ? 3 : s < 10 ? 1 : 0)) + "s";
    s = Math.round(s);
    const units = [
        [86400, "d"],
        [3600, "h"],
        [60, "m"],
        [1, "s"],
    ];
    const parts = [];
    for (const [size, unit] of units) {
        if (s >= size && parts.length < 2) {
            parts.push(Math.floor(s / size) + unit);
            s %= size;
        } else if (parts.length === 1) {
            break;
        }
    }
    return sign + parts.join("");
}

/** Ticks for a duration axis in seconds: on round seconds, minutes, hours or days. */
export function durationTicks(lo, hi, count = 5) {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo === hi) return Number.isFinite(lo) ? [lo] : [];
    if (lo > hi) [lo, hi] = [hi, lo];
    if (hi - lo < 1) return niceTicks(lo, hi, count);
    const step = timeStep((hi - lo) * SECOND, count) / SECOND;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi && ticks.length <= 1000; t += step) ticks.push(t);
    return ticks;
}
