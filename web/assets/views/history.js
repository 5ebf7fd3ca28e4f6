// History: finished downloads, newest first, with their credit.
import { api, bytes, extLink, h, replace, when } from "../dom.js";

export const TITLE = "History";
let table = null, rows = [], text = "";

export function show(main, { search }) {
  text = (search || "").toLowerCase();
  table = h("tbody", {});
  const state = h("select", { id: "history-state", onchange: (e) => load(e.target.value) },
    ["", "done", "failed", "duplicate", "invalid", "cancelled"].map((s) => h("option", { value: s }, s || "All outcomes")));
  replace(main, h("h1", {}, "History"),
    h("div", { class: "toolbar" }, h("label", { for: "history-state" }, "Outcome"), state),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Finished", "Theme", "Title", "Source", "Outcome", "Size", "Credit"].map((t) => h("th", { scope: "col" }, t)))),
      table)));
  load("");
}

export function search(value) {
  text = value.toLowerCase();
  render();
}

async function load(outcome) {
  try {
    rows = await api("GET", `/api/history?limit=200${outcome ? `&state=${outcome}` : ""}`);
    render();
  } catch (e) {
    replace(table, h("tr", {}, h("td", { colspan: 7, role: "alert" }, e.message)));
  }
}

function render() {
  const shown = rows.filter((r) => !text || r.theme.toLowerCase().includes(text));
  if (shown.length === 0) {
    replace(table, h("tr", {}, h("td", { colspan: 7, class: "muted" }, "Nothing yet.")));
    return;
  }
  replace(table, shown.map((r) => h("tr", {},
    h("td", {}, when(r.finished_at)),
    h("td", {}, h("a", { href: `#/job/${r.job}` }, r.theme)),
    h("td", { class: "title" }, extLink(r.attribution.page_url, r.attribution.title || r.attribution.source_id)),
    h("td", {}, r.attribution.source),
    h("td", {}, r.state, r.error ? h("span", { class: "muted" }, ` — ${r.error}`) : ""),
    h("td", {}, bytes(r.bytes)),
    h("td", {}, r.attribution.author_name ? extLink(r.attribution.author_url, r.attribution.author_name) : "",
      r.attribution.license ? ` · ${r.attribution.license}` : ""))));
}
