// Add: a new job, with the theme autocompleted from search history (/api/themes) and the
// API's own validation message (a 422 problem's detail) shown beside the field it is about.
import { api, h, replace } from "../dom.js";

export const TITLE = "Add a job";
const QUALITIES = ["", "sd", "hd", "uhd", "best"];
const ORIENTATIONS = ["", "landscape", "portrait", "square"];
/** Which field a validation message is about, by the words the daemon uses. */
const FIELD_WORDS = [
  ["min_duration", /min(imum)? duration/i], ["max_duration", /max(imum)? duration/i],
  ["min_width", /width/i], ["min_height", /height/i], ["max_file_size_mb", /size/i],
  ["count", /count/i], ["priority", /priority/i], ["quality", /quality/i],
  ["orientation", /orientation/i], ["sources", /source/i], ["theme", /theme/i],
];

export function show(main) {
  const suggestions = h("datalist", { id: "theme-suggestions" });
  const theme = input("theme", "Theme", { type: "text", required: true, list: "theme-suggestions", autocomplete: "off", maxlength: 500 });
  theme.control.addEventListener("input", () => suggest(theme.control.value, suggestions));
  suggest("", suggestions);
  const sources = h("fieldset", { class: "field", id: "field-sources", "aria-describedby": "error-sources" },
    h("legend", {}, "Sources (none ticked: every enabled source)"),
    h("div", { class: "row", id: "source-boxes" }),
    h("p", { class: "field-error", id: "error-sources" }));
  api("GET", "/api/status").then((status) => {
    const boxes = sources.querySelector("#source-boxes");
    replace(boxes, (status.sources || []).map((s) => {
      const name = s.name || s.source || String(s);
      return h("label", {}, h("input", { type: "checkbox", name: "sources", value: name }), ` ${name}`);
    }));
  }).catch(() => {});
  const general = h("p", { class: "field-error", id: "error-form", role: "alert" });
  const form = h("form", { class: "add", novalidate: true, onsubmit: (e) => submit(e, form) },
    theme.el,
    h("div", { class: "grid2" },
      input("count", "Count", { type: "number", min: 1, value: 5, required: true }).el,
      input("priority", "Priority", { type: "number", value: 0 }).el,
      choice("quality", "Quality", QUALITIES, "default").el,
      choice("orientation", "Orientation", ORIENTATIONS, "any").el),
    sources,
    h("div", { class: "grid2" },
      input("min_duration", "Min duration (s)", { type: "number", min: 0 }).el,
      input("max_duration", "Max duration (s)", { type: "number", min: 0 }).el,
      input("min_width", "Min width (px)", { type: "number", min: 0 }).el,
      input("min_height", "Min height (px)", { type: "number", min: 0 }).el,
      input("max_file_size_mb", "Max file size (MB)", { type: "number", min: 0 }).el),
    general,
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Add job")));
  replace(main, h("h1", {}, "Add a job"), suggestions, form);
  theme.control.focus();
}

function input(name, label, attrs) {
  const control = h("input", Object.assign({ id: `field-${name}`, name, "aria-describedby": `error-${name}` }, attrs));
  const el = h("div", { class: "field" }, h("label", { for: `field-${name}` }, label), control,
    h("p", { class: "field-error", id: `error-${name}` }));
  return { el, control };
}

function choice(name, label, values, empty) {
  const control = h("select", { id: `field-${name}`, name, "aria-describedby": `error-${name}` },
    values.map((v) => h("option", { value: v }, v || empty)));
  const el = h("div", { class: "field" }, h("label", { for: `field-${name}` }, label), control,
    h("p", { class: "field-error", id: `error-${name}` }));
  return { el, control };
}

let asked = 0;
async function suggest(prefix, list) {
  const ticket = ++asked;
  try {
    const rows = await api("GET", `/api/themes?prefix=${encodeURIComponent(prefix.trim())}&limit=10`);
    if (ticket !== asked) return; // an older answer arriving late
    replace(list, rows.map((r) => h("option", { value: r.theme })));
  } catch (e) { /* suggestions are a help, not a need */ }
}

function body(form) {
  const data = new FormData(form);
  const out = { theme: String(data.get("theme") || ""), count: Number(data.get("count")) };
  const number = (key) => { const v = String(data.get(key) || "").trim(); if (v !== "") out[key] = Number(v); };
  ["priority", "min_duration", "max_duration", "min_width", "min_height", "max_file_size_mb"].forEach(number);
  for (const key of ["quality", "orientation"]) { if (data.get(key)) out[key] = data.get(key); }
  const sources = data.getAll("sources");
  if (sources.length) out.sources = sources;
  return out;
}

async function submit(e, form) {
  e.preventDefault();
  for (const p of form.querySelectorAll(".field-error")) p.textContent = "";
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  try {
    const job = await api("POST", "/api/jobs", body(form));
    location.hash = `#/queue`;
    return job;
  } catch (err) {
    const match = FIELD_WORDS.find(([, words]) => words.test(err.message));
    const name = match ? match[0] : "form";
    const slot = form.querySelector(`#error-${name}`) || form.querySelector("#error-form");
    slot.textContent = err.message;
    const control = form.querySelector(`#field-${name}`);
    if (control) {
      control.setAttribute("aria-invalid", "true");
      if (control.focus) control.focus();
    }
    return null;
  }
}
