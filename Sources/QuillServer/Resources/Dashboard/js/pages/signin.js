// Sign in with an API key. The key goes to POST /api/v1/session once; the server answers with an HttpOnly
// session cookie, so the page never keeps the key (not in localStorage, not in a variable after the request).

import { ApiError, send } from "../api.js";
import { navigate } from "../app.js";
import { h } from "../dom.js";
import { urls } from "../url.js";

export async function render(main, _params, query) {
    const next = query.get("next") && query.get("next").startsWith("/") && !query.get("next").startsWith("//") ? query.get("next") : urls.projects();
    const key = h("input", { type: "password", name: "api_key", autocomplete: "current-password", required: true, size: 50,
        "aria-label": "API key", class: "mono" });
    const error = h("p", { class: "error", role: "alert" });
    const form = h("form", { class: "panel signin" },
        h("label", {}, "API key ", key),
        h("button", { type: "submit" }, "Sign in"),
        error,
        h("p", { class: "muted" },
            "An administrator creates your user and first key with ", h("code", {}, "quill users create NAME"),
            " on the server; you make more keys with ", h("code", {}, "quill keys create"), "."));
    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        error.textContent = "";
        try {
            await send("POST", "/session", { api_key: key.value });
            key.value = "";
            window.dispatchEvent(new Event("quill:session"));
            navigate(next, { replace: true });
        } catch (failure) {
            error.textContent = failure instanceof ApiError ? failure.message : String(failure);
        }
    });
    main.replaceChildren(h("h1", {}, "Sign in"), form);
    key.focus();
    return undefined;
}
