// Runs as the runs table shows them: flattened config/params/summary, nesting under parents, and the
// value of any column the user picks (the same dotted fields the query language uses).

import { number } from "./api.js";

/** Flattens nested objects to dotted keys: { a: { b: 1 } } → { "a.b": 1 }. Arrays stay values. */
export function flatten(value, prefix = "", into = {}) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
    } else if (prefix) {
        into[prefix] = value;
    }
    return into;
}

/** A run of the API with `fields`: params (config, then params over it), summary, metric aggregates, tags. */
export function prepare(run) {
    const params = { ...flatten(run.config ?? {}), ...flatten(run.params ?? {}) };
    const summary = flatten(run.summary ?? {});
    const metrics = {};
    for (const [key, stats] of Object.entries(run.metrics ?? {})) {
        metrics[key] = { latest: number(stats.latest), min: number(stats.min), max: number(stats.max), count: stats.count };
    }
    return { ...run, key: run.id, fields: { params, summary, metrics, tags: run.tags ?? {} } };
}

/** The value of a query-language field of a prepared run (`params.lr`, `summary.acc`, `metrics.loss.min`, `status`). */
export function fieldValue(run, field) {
    const [head, ...rest] = field.split(".");
    const key = rest.join(".");
    switch (head) {
        case "params":
        case "param":
        case "config":
            return run.fields.params[key];
        case "summary":
            return run.fields.summary[key];
        case "tags":
        case "tag":
            return run.fields.tags[key];
        case "metrics":
        case "metric": {
            for (const aggregate of ["latest", "last", "min", "max", "count"]) {
                if (key.endsWith(`.${aggregate}`)) {
                    const stats = run.fields.metrics[key.slice(0, -aggregate.length - 1)];
                    if (stats) return stats[aggregate === "last" ? "latest" : aggregate];
                }
            }
            return run.fields.metrics[key]?.latest;
        }
        case "duration":
            return run.duration_seconds;
        case "created":
        case "started":
            return run.started_at;
        default:
            return run[head];
    }
}

/** Every field the runs have, for the column picker: params, summary and metrics, sorted. */
export function availableFields(runs) {
    const fields = new Set();
    for (const run of runs) {
        for (const key of Object.keys(run.fields.params)) fields.add(`params.${key}`);
        for (const key of Object.keys(run.fields.summary)) fields.add(`summary.${key}`);
        for (const key of Object.keys(run.fields.metrics)) fields.add(`metrics.${key}`);
    }
    return [...fields].sort();
}

/**
 * Runs in their order with each child right after its parent (when the parent is in the list), and the
 * nesting depth of each; children keep their relative order.
 */
export function nest(runs) {
    const byID = new Map(runs.map((r) => [r.id, r]));
    const children = new Map();
    const roots = [];
    for (const run of runs) {
        if (run.parent && byID.has(run.parent) && run.parent !== run.id) {
            if (!children.has(run.parent)) children.set(run.parent, []);
            children.get(run.parent).push(run);
        } else {
            roots.push(run);
        }
    }
    const out = [];
    const seen = new Set();
    const visit = (run, depth) => {
        if (seen.has(run.id)) return;
        seen.add(run.id);
        out.push({ ...run, depth });
        for (const child of children.get(run.id) ?? []) visit(child, depth + 1);
    };
    for (const run of roots) visit(run, 0);
    for (const run of runs) visit(run, 0); // a parent cycle leaves runs unvisited: show them flat
    return out;
}

/**
 * Groups metric keys by their prefix up to the last slash: train/loss → train. Ungrouped keys come first
 * and the system metrics the SDK samples (system/cpu_percent, system/memory_rss_mb, system/gpu…) last.
 */
export function groupKeys(keys) {
    const groups = new Map();
    for (const key of [...keys].sort()) {
        const slash = key.lastIndexOf("/");
        const group = slash > 0 ? key.slice(0, slash) : "";
        if (!groups.has(group)) groups.set(group, []);
        groups.get(group).push(key);
    }
    const rank = (group) => (group === "" ? 0 : group === "system" || group.startsWith("system/") ? 2 : 1);
    return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The keys whose values are not all the same across runs (a missing value differs from any value). */
export function differingKeys(rows) {
    const keys = new Set(rows.flatMap((r) => Object.keys(r)));
    return [...keys].filter((key) => new Set(rows.map((r) => (key in r ? JSON.stringify(r[key]) : "\u0000missing"))).size > 1);
}
