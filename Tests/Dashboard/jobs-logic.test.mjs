// The jobs and devices pages' pure logic. Run with `node --test Tests/Dashboard`.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
    actions, attemptText, changeKey, commandText, currentAttempt, deviceOrder, elapsedSeconds, exitText, formatElapsed,
    gpusText, nextDelay, parseStatuses, partition, requirementsText, slotsText,
} from "../../Sources/QuillServer/Resources/Dashboard/js/jobs-model.js";
import { route, urls } from "../../Sources/QuillServer/Resources/Dashboard/js/url.js";
import { bytes } from "../../Sources/QuillServer/Resources/Dashboard/js/dom.js";

const job = (id, status, extra = {}) => ({ id, status, priority: 0, project_id: 1, attempts: [], created_at: "2026-11-30T04:00:00Z", ...extra });

test("the jobs pages' URLs route back to their pages", () => {
    assert.deepEqual(route(urls.jobs()), { page: "jobs", params: {} });
    assert.deepEqual(route(urls.job(42)), { page: "job", params: { id: "42" } });
    assert.deepEqual(route(urls.devices()), { page: "devices", params: {} });
    assert.equal(urls.jobs({ status: ["failed", "cancelled"] }), "/jobs?status=failed%2Ccancelled");
    assert.equal(route("/jobs/1/more").page, "notFound");
    assert.equal(route("/devices/x").page, "notFound");
});

test("status filters keep known statuses in list order", () => {
    assert.deepEqual(parseStatuses("failed,queued,bogus, running"), ["queued", "running", "failed"]);
    assert.deepEqual(parseStatuses(null), []);
    assert.deepEqual(parseStatuses(""), []);
});

test("the queue is in claim order: higher priority first, then the oldest; running by start; finished newest end first", () => {
    const jobs = [
        job(1, "queued"), job(2, "queued", { priority: 5 }), job(3, "queued", { priority: 5 }), job(4, "lost"),
        job(5, "running", { started_at: "2026-11-30T04:02:00Z" }), job(6, "running", { started_at: "2026-11-30T04:01:00Z" }),
        job(7, "completed", { ended_at: "2026-11-30T04:03:00Z" }), job(8, "failed", { ended_at: "2026-11-30T04:05:00Z" }),
        job(9, "cancelled", { ended_at: "2026-11-30T04:04:00Z" }),
    ];
    const parts = partition(jobs);
    assert.deepEqual(parts.queued.map((j) => j.id), [2, 3, 1, 4]);
    assert.deepEqual(parts.running.map((j) => j.id), [6, 5]);
    assert.deepEqual(parts.finished.map((j) => j.id), [8, 9, 7]);
});

test("a job read twice (two pages read at different moments) is listed once, its newer copy", () => {
    const older = job(1, "queued");
    const newer = job(1, "running", { attempts: [{ number: 1, worker: "w", started_at: "2026-11-30T04:00:00Z" }] });
    const parts = partition([older, newer]);
    assert.deepEqual(parts.queued, []);
    assert.deepEqual(parts.running.map((j) => j.status), ["running"]);
    assert.equal(partition([newer, older]).running.length, 1);
});

test("exits read as an exit status or a named signal; attempts as a line", () => {
    assert.equal(exitText({ exit_code: 0, signal: null }), "exit 0");
    assert.equal(exitText({ exit_code: null, signal: 9 }), "signal 9 (SIGKILL)");
    assert.equal(exitText({ exit_code: 1, signal: 15 }), "signal 15 (SIGTERM)", "a signal says more than the exit status it left");
    assert.equal(exitText({ signal: 64 }), "signal 64");
    assert.equal(exitText({}), "—");
    assert.equal(attemptText({ number: 2, worker: "gpu-box", outcome: "lost" }), "#2 gpu-box lost");
    assert.equal(attemptText({ number: 3, worker: "gpu-box", outcome: null }), "#3 gpu-box running");
    const running = job(1, "running", { attempts: [{ number: 1, ended_at: "x", outcome: "lost" }, { number: 2, ended_at: null }] });
    assert.equal(currentAttempt(running).number, 2);
    assert.equal(currentAttempt(job(2, "completed", { attempts: [{ number: 1, ended_at: "x" }] })), null);
    assert.equal(currentAttempt(job(3, "queued")), null);
});

test("elapsed times: to now while running, to the end after; formatted with two units", () => {
    const now = Date.parse("2026-11-30T05:00:00Z");
    assert.equal(elapsedSeconds("2026-11-30T04:59:30Z", null, now), 30);
    assert.equal(elapsedSeconds("2026-11-30T04:00:00Z", "2026-11-30T04:01:05Z", now), 65);
    assert.equal(elapsedSeconds(null, null, now), null);
    assert.equal(elapsedSeconds("2026-11-30T05:00:10Z", null, now), 0, "a clock a little ahead is not negative");
    assert.deepEqual([4.7, 65, 3720, 93600, null].map(formatElapsed), ["4s", "1m 05s", "1h 02m", "1d 2h", "—"]);
});

test("Cancel and Retry only where the caller may write the job's project, and only when they would work", () => {
    const mine = { all_projects: false, project_ids: [1] };
    assert.deepEqual(actions(job(1, "queued"), mine), { cancel: true, retry: false });
    assert.deepEqual(actions(job(1, "running"), mine), { cancel: true, retry: false });
    assert.deepEqual(actions(job(1, "running", { cancel_requested: true }), mine), { cancel: false, retry: false });
    for (const status of ["completed", "failed", "cancelled"]) assert.deepEqual(actions(job(1, status), mine), { cancel: false, retry: true });
    assert.deepEqual(actions(job(1, "failed", { project_id: 2 }), mine), { cancel: false, retry: false }, "another project");
    assert.deepEqual(actions(job(1, "failed", { project_id: 2 }), { all_projects: true, project_ids: [] }), { cancel: false, retry: true });
    assert.deepEqual(actions(job(1, "queued"), null), { cancel: false, retry: false }, "access unknown: no buttons");
});

test("commands, requirements, devices' resources and slots read as people write them", () => {
    assert.equal(commandText(["python", "train.py", "--lr", "0.1"]), "python train.py --lr 0.1");
    assert.equal(commandText(["sh", "-c", "echo 'hi' && sleep 1"]), "sh -c 'echo '\\''hi'\\'' && sleep 1'");
    assert.equal(commandText(["echo", ""]), "echo ''");
    assert.equal(requirementsText({ gpus: 2, device: "box", labels: ["a100", "fast"] }), "2 GPUs, device box, labels a100, fast");
    assert.equal(requirementsText({ gpus: 1, labels: ["x"] }), "1 GPU, label x");
    assert.equal(requirementsText({ gpus: 0, labels: [] }), "—");
    const a100 = { name: "A100", memory_bytes: 80 * 2 ** 30 };
    assert.equal(gpusText([{ index: 0, ...a100 }, { index: 1, ...a100 }], bytes), "2 × A100 (80.0 GiB)");
    assert.equal(gpusText([{ index: 0, name: "A100" }, { index: 1, name: "T4" }], bytes), "0: A100, 1: T4");
    assert.equal(gpusText([], bytes), "none");
    assert.equal(slotsText({ slots: 2, running_jobs: [7] }), "1 of 2");
    const devices = [{ name: "b", status: "offline" }, { name: "c", status: "online" }, { name: "a", status: "online" }, { name: "z", status: "busy" }];
    assert.deepEqual(devices.sort(deviceOrder).map((d) => d.name), ["z", "a", "c", "b"]);
});

test("polling backs off while nothing changes, returns to the minimum on a change, waits longer after errors", () => {
    let delay = nextDelay(null);
    assert.equal(delay, 1000);
    const waits = [];
    for (let i = 0; i < 8; i++) waits.push((delay = nextDelay(delay)));
    assert.deepEqual(waits, [1500, 2250, 3375, 5062.5, 7593.75, 10000, 10000, 10000]);
    assert.equal(nextDelay(delay, { changed: true }), 1000);
    assert.equal(nextDelay(1000, { failed: true }), 5000);
    assert.equal(nextDelay(20000, { failed: true }), 30000);
    assert.equal(nextDelay(null, { min: 2000, max: 10000 }), 2000);
});

test("the change key sees status, attempts, a waiting cancel and new output, and nothing else", () => {
    const a = [job(1, "running", { attempts: [{}] })];
    assert.equal(changeKey(a), changeKey([{ ...a[0], name: "renamed" }]));
    assert.notEqual(changeKey(a), changeKey([{ ...a[0], cancel_requested: true }]));
    assert.notEqual(changeKey(a), changeKey([{ ...a[0], attempts: [{}, {}] }]));
    assert.notEqual(changeKey(a), changeKey(a, new Map([[1, "epoch 2"]])));
});
