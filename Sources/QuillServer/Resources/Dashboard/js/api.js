// The dashboard reads Quill's public REST API only (/api/v1), so anything it shows a script can get too.
// Requests carry the session cookie (same origin); errors become ApiError with the server's code and message.

/** An error answer of the API: HTTP status, the error code and the message that says what to do. */
export class ApiError extends Error {
    constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
    }
}

function withParameters(path, parameters) {
    if (!parameters) return path;
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(parameters)) {
        if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
    }
    const text = query.toString();
    return text ? `${path}?${text}` : path;
}

/** GET `path` (under /api/v1) with query parameters, as parsed JSON. */
export async function get(path, parameters, { signal } = {}) {
    return request("GET", path, parameters, undefined, signal);
}

/** Sends a JSON body with `method` to `path` (under /api/v1) and returns the parsed answer. */
export async function send(method, path, body) {
    return request(method, path, undefined, body);
}

async function request(method, path, parameters, body, signal) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
        response = await fetch(withParameters(`/api/v1${path}`, parameters), {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            credentials: "same-origin",
            signal,
        });
    } catch (error) {
        if (error.name === "AbortError") throw error;
        throw new ApiError(0, "unreachable", "the Quill server did not answer; is `quill serve` still running?");
    }
    const text = await response.text();
    let json = null;
    try {
        json = text ? JSON.parse(text) : null;
    } catch {
        json = null;
    }
    if (!response.ok) {
        const error = json?.error ?? {};
        throw new ApiError(response.status, error.code ?? "http", error.message ?? `HTTP ${response.status}`);
    }
    return json;
}

/** A JSON number of the API as a number: NaN and the infinities arrive as the strings "NaN", "Infinity", "-Infinity". */
export function number(value) {
    if (typeof value === "number") return value;
    if (value === "NaN") return NaN;
    if (value === "Infinity") return Infinity;
    if (value === "-Infinity") return -Infinity;
    if (value === null || value === undefined) return NaN;
    const parsed = Number(value);
    return Number.isNaN(parsed) ? NaN : parsed;
}

/**
 * One metric's history as typed arrays, downsampled by the server to about `maxPoints` (its buckets keep
 * each range's first, last, smallest and largest point). `from`/`to` limit the steps.
 */
export async function history(runID, key, { maxPoints = 2000, from, to, signal } = {}) {
    const body = await get(`/runs/${encodeURIComponent(runID)}/metrics`, { key, max_points: maxPoints, from, to }, { signal });
    return series(key, body);
}

/** Several metrics' histories of a run in one request (`/runs/{id}/histories`), in the order of `keys`. */
export async function histories(runID, keys, { maxPoints = 2000, from, to, signal } = {}) {
    const query = new URLSearchParams();
    for (const key of keys) query.append("key", key);
    for (const [name, value] of Object.entries({ max_points: maxPoints, from, to })) {
        if (value !== undefined && value !== null) query.set(name, String(value));
    }
    const body = await get(`/runs/${encodeURIComponent(runID)}/histories?${query}`, undefined, { signal });
    return body.histories.map((h, i) => series(keys[i], h));
}

function series(key, body) {
    const points = body.points ?? [];
    const step = new Float64Array(points.length);
    const time = new Float64Array(points.length);
    const value = new Float64Array(points.length);
    const index = new Float64Array(points.length);
    points.forEach((p, i) => {
        index[i] = p.idx;
        step[i] = p.step ?? p.idx;
        time[i] = Date.parse(p.timestamp);
        value[i] = number(p.value);
    });
    return { key, index, step, time, value, total: body.total_points ?? points.length, downsampled: Boolean(body.downsampled) };
}

/** Every page of runs matching a search, `limit` at a time, calling `onPage` as pages arrive. */
export async function allRuns(parameters, onPage, { signal, limit = 500 } = {}) {
    let cursor;
    const runs = [];
    do {
        const page = await get("/runs", { ...parameters, limit, cursor }, { signal });
        runs.push(...page.runs);
        onPage?.(runs, Boolean(page.next_cursor));
        cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return runs;
}
