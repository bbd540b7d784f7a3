// Projects: the ones the caller may read, with owner and visibility, newest activity first.

import { get } from "../api.js";
import { h, message, when } from "../dom.js";
import { urls } from "../url.js";

export async function render(main) {
    main.replaceChildren(h("h1", {}, "Projects"), message("Loading projects…"));
    const { projects } = await get("/projects");
    if (projects.length === 0) {
        main.replaceChildren(
            h("h1", {}, "Projects"),
            message("No projects yet. Log a run with the SDK or `quill run`, with QUILL_TRACKING_URI set to this server."),
        );
        return;
    }
    projects.sort((a, b) => (b.last_activity ?? b.created_at ?? "").localeCompare(a.last_activity ?? a.created_at ?? ""));
    const counts = (p) => {
        const c = p.run_counts;
        if (!c) return "";
        return Object.entries(c).filter(([, n]) => n > 0).map(([status, n]) => `${n} ${status}`).join(", ");
    };
    main.replaceChildren(
        h("h1", {}, "Projects"),
        h("table", { "aria-label": "Projects" },
            h("thead", {}, h("tr", {},
                h("th", {}, "Project"), h("th", {}, "Owner"), h("th", {}, "Visibility"),
                h("th", {}, "Runs"), h("th", {}, "Last activity"))),
            h("tbody", {}, projects.map((p) => h("tr", {},
                h("td", {}, h("a", { href: urls.project(p.namespace, p.slug) }, p.name)),
                h("td", {}, p.namespace),
                h("td", {}, p.visibility),
                h("td", {}, counts(p)),
                h("td", {}, when(p.last_activity ?? p.created_at)))))),
    );
}
