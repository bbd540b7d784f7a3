// The dashboard's one URL scheme. The server hands out the same shapes (a run's `dashboard_url`,
// `quill show --server`), and the first path segments below are reserved: no namespace may take them.
//
//   /                                  projects
//   /<namespace>/<project>             the project's runs (?q=, sort=, columns=)
//   /<namespace>/<project>/runs/<id>   a run (?x=step|time|relative, smooth=, log=, zoom=)
//   /<namespace>/<project>/compare     selected runs (?runs=a,b,c)
//   /runs/<id>                         a run by id alone (redirects to its project's URL)
//   /steps, /steps/<namespace>/<hash>  cached steps
//   /jobs                              jobs: the queue, running and finished (?status=failed,cancelled)
//   /jobs/<id>                         a job: its attempts, live output, cancel and retry
//   /devices                           devices (workers) with status and resources
//   /stats, /signin

/** First path segments the server and the dashboard use; never a namespace. */
export const RESERVED = [
    "api", "assets", "healthz", "metrics", "runs", "steps", "stats", "signin", "signout", "favicon.ico", "robots.txt",
    "jobs", "devices",
];

const segment = (text) => encodeURIComponent(text);

function withQuery(path, state = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(state)) {
        if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0)) continue;
        query.set(key, Array.isArray(value) ? value.join(",") : String(value));
    }
    const text = query.toString();
    return text ? `${path}?${text}` : path;
}

/** Builders for every page's URL. */
export const urls = {
    projects: () => "/",
    project: (namespace, slug, state) => withQuery(`/${segment(namespace)}/${segment(slug)}`, state),
    run: (namespace, slug, id, state) =>
        withQuery(`/${segment(namespace)}/${segment(slug)}/runs/${segment(id)}`, state),
    runByID: (id) => `/runs/${segment(id)}`,
    compare: (namespace, slug, ids, state) =>
        withQuery(`/${segment(namespace)}/${segment(slug)}/compare`, { runs: ids, ...state }),
    steps: (state) => withQuery("/steps", state),
    step: (namespace, hash) => `/steps/${segment(namespace)}/${segment(hash)}`,
    stats: () => "/stats",
    jobs: (state) => withQuery("/jobs", state),
    job: (id) => `/jobs/${segment(String(id))}`,
    devices: () => "/devices",
    signin: (next) => withQuery("/signin", { next }),
};

/**
 * The page a path names: `{ page, params }`, with `page` one of projects, project, run, runByID, compare,
 * steps, step, stats, jobs, job, devices, signin or notFound.
 */
export function route(pathname) {
    const parts = pathname.split("/").filter(Boolean).map((p) => {
        try {
            return decodeURIComponent(p);
        } catch {
            return p;
        }
    });
    if (parts.length === 0) return { page: "projects", params: {} };
    const [first, second, third, fourth] = parts;
    if (first === "runs" && parts.length === 2) return { page: "runByID", params: { id: second } };
    if (first === "steps" && parts.length === 1) return { page: "steps", params: {} };
    if (first === "steps" && parts.length === 3) return { page: "step", params: { namespace: second, hash: third } };
    if (first === "stats" && parts.length === 1) return { page: "stats", params: {} };
    if (first === "jobs" && parts.length === 1) return { page: "jobs", params: {} };
    if (first === "jobs" && parts.length === 2) return { page: "job", params: { id: second } };
    if (first === "devices" && parts.length === 1) return { page: "devices", params: {} };
    if (first === "signin" && parts.length === 1) return { page: "signin", params: {} };
    if (RESERVED.includes(first)) return { page: "notFound", params: {} };
    if (parts.length === 2) return { page: "project", params: { namespace: first, slug: second } };
    if (parts.length === 3 && third === "compare") return { page: "compare", params: { namespace: first, slug: second } };
    if (parts.length === 4 && third === "runs") return { page: "run", params: { namespace: first, slug: second, id: fourth } };
    return { page: "notFound", params: {} };
}
