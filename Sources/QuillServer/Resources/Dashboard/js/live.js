// Following a resource live with server-sent events (EventSource), for any page: the run page follows
// `/runs/{id}/events`; later pages (jobs, devices) follow their own streams the same way. Each event's
// JSON body goes to the handler of its name; `end` closes the stream. When the stream cannot be had (the
// server refused it: 404, 429, 503; or it keeps failing), `fallback` is called once and the page polls
// instead.

/**
 * Opens `path` (under /api/v1) as an event stream. `handlers` maps event names to functions of the parsed
 * body. Returns `{ close() }`.
 */
export function follow(path, handlers, { fallback, onStatus, maxErrors = 3 } = {}) {
    let closed = false;
    let errors = 0;
    if (typeof EventSource !== "function") {
        fallback?.();
        return { close() {} };
    }
    const source = new EventSource(`/api/v1${path}`, { withCredentials: true });
    const close = () => {
        closed = true;
        source.close();
    };
    onStatus?.("connecting");
    source.addEventListener("open", () => onStatus?.("live"));
    for (const name of new Set([...Object.keys(handlers), "end"])) {
        source.addEventListener(name, (event) => {
            errors = 0;
            let body = null;
            try {
                body = JSON.parse(event.data);
            } catch {
                return;
            }
            handlers[name]?.(body, event.lastEventId);
            if (name === "end") {
                close();
                onStatus?.("ended");
            }
        });
    }
    source.addEventListener("error", () => {
        if (closed) return;
        errors += 1;
        // CLOSED: the server answered with something that is not a stream (an error status); the browser
        // will not retry. Repeated failures while reconnecting: give up the same way.
        if (source.readyState === EventSource.CLOSED || errors >= maxErrors) {
            close();
            onStatus?.("polling");
            fallback?.();
        }
    });
    return { close };
}
