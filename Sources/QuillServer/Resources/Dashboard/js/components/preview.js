// In-page previews of artifacts: text, JSON (pretty-printed), CSV/TSV (as a table) and images. Files are
// fetched from the API's download URL with the page's session; large text is cut at PREVIEW_BYTES.

import { h } from "../dom.js";

/** The most bytes of a text file shown in a preview. */
export const PREVIEW_BYTES = 1 << 20;
const TEXT = ["txt", "log", "md", "py", "swift", "yaml", "yml", "toml", "ini", "cfg", "sh", "out", "err", "html", "xml"];
const IMAGES = ["png", "jpg", "jpeg", "gif", "webp", "svg", "bmp"];

/** How a path is previewed: "image", "json", "csv", "tsv", "text", or null for none. */
export function previewKind(path) {
    const name = path.toLowerCase();
    const dot = name.lastIndexOf(".");
    const extension = dot >= 0 ? name.slice(dot + 1) : "";
    if (IMAGES.includes(extension)) return "image";
    if (extension === "json" || extension === "jsonl") return extension === "json" ? "json" : "text";
    if (extension === "csv") return "csv";
    if (extension === "tsv") return "tsv";
    if (TEXT.includes(extension)) return "text";
    return null;
}

/**
 * Parses delimiter-separated text as RFC 4180 does: quoted fields may hold the delimiter, newlines and
 * doubled quotes. Returns at most `limit` rows.
 */
export function parseDelimited(text, delimiter = ",", limit = 1000) {
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted) {
            if (c === '"') {
                if (text[i + 1] === '"') {
                    field += '"';
                    i++;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
            continue;
        }
        if (c === '"' && field === "") quoted = true;
        else if (c === delimiter) {
            row.push(field);
            field = "";
        } else if (c === "\n" || c === "\r") {
            if (c === "\r" && text[i + 1] === "\n") i++;
            row.push(field);
            rows.push(row);
            row = [];
            field = "";
            if (rows.length >= limit) return rows;
        } else {
            field += c;
        }
    }
    if (field !== "" || row.length > 0) {
        row.push(field);
        rows.push(row);
    }
    return rows;
}

/** A preview element for an artifact record of the API (`path`, `download_url`, `size`). */
export async function preview(artifact) {
    const kind = previewKind(artifact.path);
    if (kind === "image") {
        return h("img", { src: artifact.download_url, alt: artifact.path, class: "preview-image" });
    }
    if (!kind) return h("p", { class: "muted" }, "No preview for this kind of file; download it instead.");
    const response = await fetch(artifact.download_url, {
        credentials: "same-origin",
        headers: artifact.size > PREVIEW_BYTES ? { Range: `bytes=0-${PREVIEW_BYTES - 1}` } : {},
    });
    if (!response.ok && response.status !== 206) return h("p", { class: "error" }, `HTTP ${response.status}`);
    const text = await response.text();
    const cut = artifact.size > PREVIEW_BYTES ? h("p", { class: "muted" }, `First ${PREVIEW_BYTES / 1024} KiB of the file.`) : null;
    if (kind === "json") {
        let shown = text;
        try {
            shown = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
            // Not valid JSON (or cut short): show it as it is.
        }
        return h("div", { class: "preview" }, cut, h("pre", { class: "log" }, shown));
    }
    if (kind === "csv" || kind === "tsv") {
        const rows = parseDelimited(text, kind === "csv" ? "," : "\t", 501);
        const [header = [], ...body] = rows;
        return h("div", { class: "preview", style: "overflow:auto;max-height:420px" }, cut,
            h("table", { class: "csv", "aria-label": artifact.path },
                h("thead", {}, h("tr", {}, header.map((c) => h("th", { scope: "col" }, c)))),
                h("tbody", {}, body.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))),
            rows.length > 500 ? h("p", { class: "muted" }, "First 500 rows.") : null);
    }
    return h("div", { class: "preview" }, cut, h("pre", { class: "log" }, text));
}
