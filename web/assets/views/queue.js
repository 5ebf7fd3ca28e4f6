// Queue: jobs in queue order with state, k/N and priority; each running download with a
// progress bar, speed and ETA, live from the event stream; pause/resume/cancel/priority.
import { api, bytes, confirmAction, duration, h, replace } from "../dom.js";
import { mergeJobs, state, subscribe } from "../live.js";

export const TITLE = "Queue";
const STATES = ["queued", "searching", "downloading", "paused", "done", "failed", "cancelled"];
const ACTIVE = ["queued", "searching", "downloading", "paused"];
let list = null, unsubscribe = null, filter = "", text = "", selected = null, notice = null;

export function show(main, { search }) {
  text = (search || "").toLowerCase();
  const select = h("select", { id: "state-filter", onchange: (e) => { filter = e.target.value; render(); } },
    h("option", { value: "" }, "All states"),
    STATES.map((s) => h("option", { value: s, selected: s === filter }, s)));
  notice = h("p", { class: "notice", role: "alert", hidden: true });
  list = h("ol", { class: "jobs", "aria-label": "Jobs" });
  replace(main,
    h("h1", {}, "Queue"),
    h("div", { class: "toolbar" },
      h("label", { for: "state-filter" }, "Show"), select,
      h("button", { type: "button", onclick: () => act(() => api("POST", "/api/pause"), "Paused every job") }, "Pause all"),
      h("button", { type: "button", onclick: () => act(() => api("POST", "/api/resume"), "Resumed every job") }, "Resume all"),
      h("a", { href: "#/add" }, "New job (n)")),
    notice, list);
  unsubscribe = subscribe((type) => {
    if (["snapshot", "job", "download", "progress", "jobs"].includes(type)) render();
  });
  render();
  // Finished jobs are not in the stream's snapshot: read the first page once.
  api("GET", "/api/jobs?limit=200").then(mergeJobs).catch(showError);
}

export function leave() {
  if (unsubscribe) unsubscribe();
  unsubscribe = null;
}

export function search(value) {
  text = value.toLowerCase();
  render();
}

/** Jobs to show: active ones first in queue order (priority, then age), then finished ones, newest first. */
function visible() {
  const jobs = [...state.jobs.values()].filter((j) =>
    (!filter || j.state === filter) && (!text || j.theme.toLowerCase().includes(text)));
  const active = (j) => ACTIVE.includes(j.state);
  return jobs.sort((a, b) => (active(b) - active(a))
    || (active(a) ? (b.priority - a.priority) || (a.id - b.id) : b.id - a.id));
}

function render() {
  if (!list) return;
  const jobs = visible();
  if (selected !== null && !jobs.some((j) => j.id === selected)) selected = null;
  if (jobs.length === 0) {
    replace(list, h("li", { class: "muted" }, state.jobs.size ? "No job matches." : "No jobs yet. Press n to add one."));
    return;
  }
  // Rows are rebuilt on each event: keep the keyboard focus on the same control.
  const focused = document.activeElement;
  const again = focused && list.contains(focused) && focused.dataset.action
    ? `[data-id="${focused.closest("[data-id]").dataset.id}"] [data-action="${focused.dataset.action}"]` : null;
  replace(list, jobs.map(row));
  // For the benchmark's "time to a rendered queue" (Chromium's performance timeline).
  if (!performance.getEntriesByName("vfetch:queue-rendered").length) performance.mark("vfetch:queue-rendered");
  const target = again && list.querySelector(again);
  if (target) target.focus();
}

function row(job) {
  const running = [...state.downloads.values()].filter((d) => d.job_id === job.id && d.state === "running");
  const paused = job.state === "paused";
  const over = !ACTIVE.includes(job.state);
  return h("li", { class: "job", "data-id": job.id, "aria-current": job.id === selected ? "true" : null },
    h("header", {},
      h("a", { class: "theme", href: `#/job/${job.id}` }, job.theme),
      h("span", { class: `state ${job.state}` }, job.state),
      h("span", { class: "count", "aria-label": `${job.done} of ${job.count} videos` }, `${job.done}/${job.count}`),
      h("span", { class: "muted" }, `priority ${job.priority}`),
      h("span", { class: "muted" }, `#${job.id}`)),
    h("progress", { max: job.count, value: job.done, "aria-label": `Job ${job.id} progress` }),
    running.map((d) => download(d)),
    job.waiting && job.waiting.length
      ? h("p", { class: "muted" }, `Waiting for ${job.waiting.map((w) => w.source).join(", ")}`) : null,
    job.errors && job.errors.length ? h("ul", { class: "errors" }, job.errors.map((e) => h("li", {}, e))) : null,
    over ? null : h("div", { class: "controls" },
      h("button", { type: "button", "data-action": "toggle", onclick: () => toggle(job) }, paused ? `Resume` : `Pause`),
      h("button", { type: "button", class: "danger", "data-action": "cancel", onclick: () => cancel(job) }, "Cancel"),
      h("button", { type: "button", "data-action": "up", "aria-label": `Raise priority of job ${job.id}`, onclick: () => priority(job, 1) }, "Priority +"),
      h("button", { type: "button", "data-action": "down", "aria-label": `Lower priority of job ${job.id}`, onclick: () => priority(job, -1) }, "Priority −")));
}

function download(d) {
  const eta = d.total && d.speed > 0 ? duration((d.total - d.bytes) / d.speed) : "?";
  return h("div", { class: "dl" },
    h("progress", { max: d.total || 1, value: d.total ? d.bytes : 0, "aria-label": `Download ${d.id}` }),
    h("span", { class: "numbers" },
      `${bytes(d.bytes)} of ${d.total ? bytes(d.total) : "?"} · ${bytes(d.speed || 0)}/s · ETA ${eta}`));
}

function showError(e) {
  if (!notice) return;
  notice.hidden = false;
  notice.classList.add("error");
  notice.textContent = e.message;
}

async function act(fn, done) {
  try {
    await fn();
    if (notice) { notice.hidden = false; notice.classList.remove("error"); notice.textContent = done; }
  } catch (e) {
    showError(e);
  }
}

function toggle(job) {
  const verb = job.state === "paused" ? "resume" : "pause";
  return act(() => api("POST", `/api/jobs/${job.id}/${verb}`), `Job ${job.id}: ${verb}d`);
}

async function cancel(job) {
  if (await confirmAction(`Cancel job ${job.id} (${job.theme})? Files already downloaded stay.`)) {
    await act(() => api("DELETE", `/api/jobs/${job.id}`), `Job ${job.id} cancelled`);
  }
}

function priority(job, by) {
  return act(() => api("PUT", `/api/jobs/${job.id}/priority`, { priority: job.priority + by }),
    `Job ${job.id}: priority ${job.priority + by}`);
}

/** j/k move the selection, p pauses or resumes it, x cancels it (after asking). */
export function key(k) {
  const jobs = visible();
  if (jobs.length === 0) return;
  let i = jobs.findIndex((j) => j.id === selected);
  if (k === "j") i = Math.min(jobs.length - 1, i + 1);
  else if (k === "k") i = Math.max(0, i < 0 ? 0 : i - 1);
  else {
    const job = jobs[i];
    if (!job || !ACTIVE.includes(job.state)) return;
    if (k === "p") toggle(job);
    if (k === "x") cancel(job);
    return;
  }
  selected = jobs[i].id;
  render();
  const el = list.querySelector(`[data-id="${selected}"]`);
  if (el) el.scrollIntoView({ block: "nearest" });
}
