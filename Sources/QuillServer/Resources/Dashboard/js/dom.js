// Small DOM helpers: build elements without innerHTML (so no value from the API is ever parsed as HTML).

/**
 * An element: `h("a", { href: "/", class: "brand" }, "Quill", child…)`. Attributes starting with `on` are
 * listeners; `null`/`false` attributes and children are skipped; strings become text nodes.
 */
export function h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes ?? {})) {
        if (value === null || value === undefined || value === false) continue;
        if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
        else if (name === "class") element.className = value;
        else if (name === "style") element.style.cssText = value; // CSSOM: allowed by the page's CSP, a style attribute is not
        else if (name === "dataset") Object.assign(element.dataset, value);
        else if (name in element && typeof value !== "string") element[name] = value;
        else element.setAttribute(name, value === true ? "" : String(value));
    }
    append(element, children);
    return element;
}

function append(element, children) {
    for (const child of children) {
        if (child === null || child === undefined || child === false) continue;
        if (Array.isArray(child)) append(element, child);
        else element.append(child instanceof Node ? child : String(child));
    }
}

/** A status badge: queued, running, completed, failed, crashed, killed. */
export function badge(status) {
    return h("span", { class: `badge ${status}` }, status);
}

/** A date as local date and time, or an em dash. */
export function when(text) {
    if (!text) return "—";
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? text : date.toLocaleString();
}

/** How long ago a time was: 5s ago, 3m ago, 2h ago, 4d ago. */
export function ago(text) {
    if (!text) return "—";
    const seconds = (Date.now() - new Date(text).getTime()) / 1000;
    if (!Number.isFinite(seconds)) return "—";
    if (seconds < 60) return `${Math.max(0, Math.round(seconds))}s ago`;
    if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
    if (seconds < 86400) return `${Math.round(seconds / 3600)}h ago`;
    return `${Math.round(seconds / 86400)}d ago`;
}

/** A value from config, params or summary as short text. */
export function show(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
}

/** Bytes as B, KiB, MiB, GiB. */
export function bytes(count) {
    if (!Number.isFinite(count)) return "—";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = count;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit += 1;
    }
    return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A message in the page's main area (errors say what to do, as the API's messages do). */
export function message(text, kind = "muted") {
    return h("p", { class: kind, role: kind === "error" ? "alert" : null }, text);
}

/** Resolves after the next frame has been drawn (charts draw in animation frames). */
export function nextFrame() {
    return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

/**
 * Marks a moment the benchmarks and tests wait for (`performance.mark`), once the next frame is drawn:
 * quill:charts-drawn, quill:zoom-drawn, quill:runs-page, quill:compare-drawn.
 */
export async function markDrawn(name, detail) {
    await nextFrame();
    performance.mark(name, { detail });
}

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element, as ``h`` makes HTML ones: `svg("rect", { x: 1, width: 4 }, child…)`. */
export function svg(tag, attributes = {}, ...children) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
    for (const child of children) element.append(child);
    return element;
}
