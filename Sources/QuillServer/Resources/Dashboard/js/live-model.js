// The pure half of following a run live (no DOM, no network), so `node --test` can check it: merging a
// `metrics` event's new points into a chart's series, deciding from a `state` event what a page must read
// again, and taking from a `logs` event only the lines a page does not have yet. Every merge is idempotent:
// an event that repeats what the page already read (after a reconnect, or a refetch that raced the stream)
// adds nothing.

import { number } from "./api.js";

/** The largest index a series holds (its last point: histories are in index order), or -Infinity. */
export function lastIndex(series) {
    return series && series.index.length ? series.index[series.index.length - 1] : -Infinity;
}

/**
 * A series with the points of one `metrics` entry appended (those past the series' last index only), or
 * `null` when the page should read the history again: the entry is not complete, or the series misses
 * points between what it was read with and the entry (it was read before points the stream had already
 * sent: its total plus the new points fall short of the entry's total).
 */
export function appendPoints(series, entry) {
    if (!entry.complete) return null;
    const after = lastIndex(series);
    const fresh = (entry.points ?? []).filter((p) => p.idx > after);
    if ((series.total ?? series.index.length) + fresh.length < entry.total_points) return null;
    const count = series.index.length + fresh.length;
    const out = { ...series, total: Math.max(entry.total_points, series.total ?? 0), appended: (series.appended ?? 0) + fresh.length };
    for (const field of ["index", "step", "time", "value"]) {
        const array = new Float64Array(count);
        array.set(series[field]);
        out[field] = array;
    }
    fresh.forEach((p, i) => {
        const k = series.index.length + i;
        out.index[k] = p.idx;
        out.step[k] = p.step ?? p.idx;
        out.time[k] = Date.parse(p.timestamp);
        out.value[k] = number(p.value);
    });
    return out;
}

/**
 * From a `state` event: the metrics whose series the page lacks or that lag behind the stream's start
 * (read them again), and whether the log lags (read it up to `state.logs`).
 */
export function behind(state, seriesByKey, logNext) {
    const stale = [];
    for (const [key, position] of Object.entries(state.metrics ?? {})) {
        const series = seriesByKey.get(key);
        if (!series || (position.last_index ?? -Infinity) > lastIndex(series)) stale.push(key);
    }
    return { stale, log: logNext === null || logNext < state.logs };
}

/** The lines of a `logs` event the page has not shown (it has `logNext` lines), and the next position. */
export function newLogLines(event, logNext) {
    const first = event.next - event.logs.length;
    const skip = Math.max(0, logNext - first);
    return { lines: event.logs.slice(skip), next: Math.max(logNext, event.next) };
}

/**
 * `step` made to run one call at a time: a call while one runs returns that run's promise and makes it run
 * `step` once more after it (however many calls came meanwhile), so an answer read before a change never
 * replaces the answer read after it. Stops repeating once `signal` is aborted.
 */
export function oneAtATime(step, signal) {
    let running = null;
    let again = false;
    return () => {
        if (running) {
            again = true;
            return running;
        }
        running = (async () => {
            do {
                again = false;
                await step();
            } while (again && !signal?.aborted);
        })().finally(() => {
            running = null;
        });
        return running;
    };
}
