// What the jobs list and a job's page share: who may cancel and retry what (`GET /jobs/access`), project
// names by id, and the Cancel and Retry buttons (cancel asks first; a refusal becomes the page's error line).

import { get, send } from "../api.js";
import { h } from "../dom.js";
import { actions } from "../jobs-model.js";

/** `GET /jobs/access`, or `null` (no buttons) when it cannot be read. */
export async function readAccess() {
    try {
        return await get("/jobs/access");
    } catch {
        return null;
    }
}

/** The projects the caller may read, by id (`{ namespace, slug, name }`); empty when they cannot be read. */
export async function projectNames() {
    try {
        const { projects } = await get("/projects");
        return new Map(projects.map((p) => [p.id, p]));
    } catch {
        return new Map();
    }
}

/**
 * The buttons the caller gets for `job`: Cancel (after a confirmation) and Retry, each calling the API and
 * then `onDone(job)`; a refusal calls `onError(text)` with the API's reason, then `onDone(null)`.
 */
export function jobButtons(job, access, { onDone, onError }) {
    const allowed = actions(job, access);
    const act = async (button, verb) => {
        if (verb === "cancel" && !window.confirm(`Cancel job ${job.id} (${job.name})?${job.status === "running" ? " Its command is stopped." : ""}`)) return;
        button.disabled = true;
        try {
            const changed = await send("POST", `/jobs/${encodeURIComponent(job.id)}/${verb}`);
            onError("");
            onDone(changed);
        } catch (error) {
            onError(`${verb === "cancel" ? "Cancel" : "Retry"} of job ${job.id} refused: ${error.message}`);
            // The page was behind (someone else changed the job): read it again, keeping the error line.
            onDone(null);
        } finally {
            button.disabled = false;
        }
    };
    const button = (verb, label) => {
        const b = h("button", { type: "button", class: `job-${verb}`, "aria-label": `${label} job ${job.id}`, dataset: { job: job.id } }, label);
        b.addEventListener("click", () => act(b, verb));
        return b;
    };
    return [allowed.cancel ? button("cancel", "Cancel") : null, allowed.retry ? button("retry", "Retry") : null];
}
