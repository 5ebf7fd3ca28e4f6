// The dashboard's shell: hash routes to views, the live stream, theme toggle, keyboard
// shortcuts, the help and confirm dialogs, and the polite progress announcer.
import { connect, state, subscribe } from "./live.js";
import * as queue from "./views/queue.js";
import * as add from "./views/add.js";
import * as job from "./views/job.js";
import * as gallery from "./views/gallery.js";
import * as stats from "./views/stats.js";
import * as history from "./views/history.js";
import * as settings from "./views/settings.js";
import * as exporter from "./views/export.js";

const VIEWS = { queue, add, job, gallery, stats, history, settings, export: exporter };
const main = document.getElementById("main");
const search = document.getElementById("search");
let current = null;

/** Shows the view the hash names (#/queue, #/job/7, …). */
function route() {
  const [name, arg] = location.hash.replace(/^#\/?/, "").split("/");
  const view = VIEWS[name] || queue;
  if (current && current.leave) current.leave();
  current = view;
  for (const link of document.querySelectorAll(".top nav a")) {
    const here = link.getAttribute("href") === `#/${name || "queue"}`;
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.replaceChildren();
  view.show(main, { arg, search: search.value.trim() });
  document.title = `${view.TITLE} — vfetch`;
}

// ---- theme -------------------------------------------------------------------------------
const toggle = document.getElementById("theme-toggle");
function showTheme() {
  const dark = document.documentElement.getAttribute("data-theme") === "dark";
  toggle.setAttribute("aria-pressed", String(dark));
  toggle.textContent = dark ? "Light theme" : "Dark theme";
}
toggle.addEventListener("click", () => {
  const next = document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark";
  document.documentElement.setAttribute("data-theme", next);
  try { localStorage.setItem("vfetch-theme", next); } catch (e) { /* not persisted */ }
  showTheme();
});
showTheme();

// ---- dialogs -----------------------------------------------------------------------------
const help = document.getElementById("help");
document.getElementById("help-button").addEventListener("click", () => help.showModal());

// ---- announcer ---------------------------------------------------------------------------
// Progress is announced politely and at most every few seconds: a screen reader must not
// read every 250 ms update.
const announcer = document.getElementById("announcer");
const ANNOUNCE_EVERY_MS = 5000;
let lastAnnounced = 0, pending = null, timer = null;
/** Says `text` through the live region, throttled; `urgent` texts (job done) go first. */
export function announce(text, urgent) {
  pending = text;
  const wait = urgent ? 0 : Math.max(0, lastAnnounced + ANNOUNCE_EVERY_MS - Date.now());
  clearTimeout(timer);
  timer = setTimeout(() => {
    announcer.textContent = pending;
    lastAnnounced = Date.now();
  }, wait);
}

subscribe((type, data) => {
  if (type === "job" && ["done", "failed", "cancelled"].includes(data.state)) {
    announce(`Job ${data.id} (${data.theme}) is ${data.state}: ${data.done} of ${data.count}.`, true);
  } else if (type === "progress") {
    const j = state.jobs.get(data.job);
    const pct = data.total ? Math.floor((100 * data.bytes) / data.total) : null;
    if (j) announce(`Job ${j.id} ${j.theme}: ${j.done} of ${j.count} done${pct === null ? "" : `, current file ${pct}%`}.`);
  } else if (type === "connection") {
    const bar = document.getElementById("connection");
    bar.hidden = data;
    bar.textContent = data ? "" : "Live updates interrupted; reconnecting…";
  }
});

// ---- keyboard ----------------------------------------------------------------------------
let pendingG = 0;
function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") {
    if (typing(e.target)) e.target.blur();
    return; // open dialogs close themselves on Escape
  }
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || document.querySelector("dialog[open]")) return;
  const now = Date.now();
  if (now - pendingG < 1500) {
    pendingG = 0;
    const to = { q: "#/queue", g: "#/gallery", s: "#/stats" }[e.key];
    if (to) { e.preventDefault(); location.hash = to; }
    return;
  }
  switch (e.key) {
    case "/": e.preventDefault(); search.focus(); break;
    case "n": e.preventDefault(); location.hash = "#/add"; break;
    case "g": pendingG = now; break;
    case "?": e.preventDefault(); help.showModal(); break;
    case "j": case "k": case "p": case "x":
      if (current && current.key) { e.preventDefault(); current.key(e.key); }
      break;
    default: break;
  }
});

search.addEventListener("input", () => {
  if (current && current.search) current.search(search.value.trim());
});
search.addEventListener("keydown", (e) => {
  // Enter on a page without a search of its own looks in the gallery.
  if (e.key === "Enter" && !(current && current.search)) location.hash = "#/gallery";
});

window.addEventListener("hashchange", route);
connect();
route();
