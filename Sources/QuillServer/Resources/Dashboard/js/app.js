// The dashboard's entry: routes the URL to a page, keeps links in-page (history API), and marks the
// current section in the navigation. Each page module exports `render(main, params, query)` and may
// return a cleanup function that runs when the page is left.

import { route, urls } from "./url.js";
import { get, send, ApiError } from "./api.js";
import { h, message } from "./dom.js";

// One line per page: its URL's name in url.js → its module. A new page (jobs, devices) adds a line here, its
// URL in url.js, and, when it belongs under another section of the navigation, a line in `sections`.
const pages = {
    projects: () => import("./pages/projects.js"),
    project: () => import("./pages/project.js"),
    run: () => import("./pages/run.js"),
    runByID: () => import("./pages/run.js"),
    compare: () => import("./pages/compare.js"),
    steps: () => import("./pages/steps.js"),
    step: () => import("./pages/step.js"),
    stats: () => import("./pages/stats.js"),
    jobs: () => import("./pages/jobs.js"),
    job: () => import("./pages/job.js"),
    devices: () => import("./pages/devices.js"),
    signin: () => import("./pages/signin.js"),
};

/** The navigation section (a `data-nav` link) a page belongs to, when it is not its own. */
const sections = { project: "projects", run: "projects", runByID: "projects", compare: "projects", step: "steps", job: "jobs" };

let cleanup = null;
let generation = 0;

async function show() {
    const mine = ++generation;
    cleanup?.();
    cleanup = null;
    const main = document.getElementById("main");
    const { page, params } = route(location.pathname);
    for (const link of document.querySelectorAll("[data-nav]")) {
        const section = sections[page] ?? page;
        const current = link.dataset.nav === section;
        if (current) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
    }
    const load = pages[page];
    if (!load) {
        main.replaceChildren(h("h1", {}, "Not found"), message("There is no page here.", "muted"), h("a", { href: urls.projects() }, "All projects"));
        return;
    }
    try {
        const module = await load();
        if (mine !== generation) return;
        const result = await module.render(main, params, new URLSearchParams(location.search));
        if (mine !== generation) {
            if (typeof result === "function") result();
            return;
        }
        cleanup = typeof result === "function" ? result : null;
    } catch (error) {
        if (mine !== generation) return;
        main.replaceChildren(h("h1", {}, error instanceof ApiError && error.status === 404 ? "Not found" : "Error"), message(error.message, "error"));
    }
}

/** Goes to an in-page URL without reloading (and without a history entry when `replace`). */
export function navigate(url, { replace = false } = {}) {
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    show();
}

/** Rewrites the current URL's query (page state: filters, sort, zoom…) without re-rendering. */
export function setState(state) {
    const query = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(state)) {
        if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0)) query.delete(key);
        else query.set(key, Array.isArray(value) ? value.join(",") : String(value));
    }
    const text = query.toString();
    history.replaceState(null, "", text ? `${location.pathname}?${text}` : location.pathname);
}

document.addEventListener("click", (event) => {
    const link = event.target.closest?.("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/") || link.target || link.hasAttribute("download")) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
});
window.addEventListener("popstate", show);

async function who() {
    const slot = document.getElementById("who");
    try {
        const me = await get("/whoami");
        if (me?.mode === "single_user") {
            slot.replaceChildren(h("span", { class: "muted" }, "single-user mode"));
        } else if (me?.user) {
            const signOut = h("button", { type: "button", class: "signout" }, "Sign out");
            signOut.addEventListener("click", async () => {
                await send("DELETE", "/session");
                who();
                navigate(urls.projects());
            });
            slot.replaceChildren(h("span", { class: "user" }, me.user), " ", signOut);
        } else {
            slot.replaceChildren(h("a", { href: urls.signin(location.pathname + location.search) }, "Sign in"));
        }
    } catch {
        slot.replaceChildren();
    }
}

window.addEventListener("quill:session", who);
show();
who();
