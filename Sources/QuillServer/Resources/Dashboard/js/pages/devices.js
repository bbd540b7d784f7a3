// Devices: every worker that registered, busy and online ones first, with its host, status, when it was
// last seen, its resources (CPUs, memory, GPUs), labels, slots in use and the jobs it runs now (links). The
// page reads the list again every few seconds (less often while nothing changes).

import { ApiError, get } from "../api.js";
import { navigate } from "../app.js";
import { VirtualTable } from "../components/virtual-table.js";
import { ago, badge, bytes, h, markDrawn, message, when } from "../dom.js";
import { deviceOrder, gpusText, nextDelay, slotsText } from "../jobs-model.js";
import { urls } from "../url.js";

const HINT = "No workers: start one with `quill worker --server URL` (or `quill serve --local-workers 1`).";

export async function render(main) {
    const controller = new AbortController();
    const columns = [
        { key: "name", title: "Name", width: 150, cell: (d) => h("span", { class: "mono" }, d.name) },
        { key: "host", title: "Host", width: 140, cell: (d) => d.host },
        { key: "status", title: "Status", width: 86, cell: (d) => badge(d.status) },
        { key: "seen", title: "Last seen", width: 90, cell: (d) => h("span", { title: when(d.last_seen), dataset: { seen: d.last_seen } }, ago(d.last_seen)) },
        { key: "cpus", title: "CPUs", width: 60, numeric: true, cell: (d) => String(d.cpus) },
        { key: "memory", title: "Memory", width: 96, numeric: true, cell: (d) => bytes(d.memory_bytes) },
        { key: "gpus", title: "GPUs", width: 200, cell: (d) => h("span", { title: gpusText(d.gpus, bytes) }, gpusText(d.gpus, bytes)) },
        { key: "labels", title: "Labels", width: 140, cell: (d) => (d.labels ?? []).map((l) => h("span", { class: "tag" }, l)) },
        { key: "slots", title: "Slots used", width: 86, numeric: true, cell: (d) => slotsText(d) },
        { key: "jobs", title: "Current jobs", width: 160, cell: (d) => (d.running_jobs ?? []).length
            ? d.running_jobs.map((id, i) => [i ? ", " : "", h("a", { href: urls.job(id), "aria-label": `job ${id} on ${d.name}` }, `job ${id}`)])
            : "—" },
    ];
    const table = new VirtualTable({
        label: "Devices", columns,
        // Keyboard: Enter opens the active device's first current job.
        onOpen: (d) => {
            if (d.running_jobs?.length) navigate(urls.job(d.running_jobs[0]));
        },
    });
    table.element.classList.add("compact");
    const status = h("p", { class: "muted", "aria-live": "polite" });
    const empty = message(HINT);
    let devices = [];

    async function read() {
        const body = await get("/devices", undefined, { signal: controller.signal });
        devices = body.devices.slice().sort(deviceOrder);
    }
    let drawn = "";
    function draw() {
        const key = JSON.stringify(devices.map((d) => [d.name, d.status, d.last_seen, d.running_jobs, d.slots, d.gpus, d.labels]));
        const online = devices.filter((d) => d.status !== "offline").length;
        status.textContent = devices.length ? `${devices.length} device${devices.length === 1 ? "" : "s"}, ${online} online` : "";
        empty.hidden = devices.length !== 0;
        table.element.hidden = devices.length === 0;
        if (key !== drawn) table.setRows(devices.map((d) => ({ ...d, key: d.name })));
        drawn = key;
        return key;
    }

    main.replaceChildren(h("h1", {}, "Devices"), status, empty, table.element);
    try {
        await read();
    } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
            main.replaceChildren(h("h1", {}, "Devices"), message(error.message, "error"), h("a", { href: urls.signin(location.pathname) }, "Sign in"));
            return () => table.destroy();
        }
        throw error;
    }
    let previous = draw();
    markDrawn("quill:devices-drawn", { count: devices.length });

    let timer = 0;
    let delay = nextDelay(null, { min: 2000, max: 10000 });
    const poll = async () => {
        let failed = false;
        let changed = false;
        try {
            if (document.visibilityState !== "hidden") {
                await read();
                const key = draw();
                changed = key !== previous;
                previous = key;
            }
        } catch (error) {
            if (error.name === "AbortError") return;
            failed = true;
            status.textContent = `${error.message} (retrying)`;
        }
        if (controller.signal.aborted) return;
        delay = nextDelay(delay, { changed, failed, min: 2000, max: 10000 });
        timer = setTimeout(poll, delay);
    };
    timer = setTimeout(poll, delay);
    // "Last seen" ages without reading the API.
    const ticker = setInterval(() => {
        for (const span of main.querySelectorAll("[data-seen]")) span.textContent = ago(span.dataset.seen);
    }, 1000);
    return () => {
        controller.abort();
        clearTimeout(timer);
        clearInterval(ticker);
        table.destroy();
    };
}
