// Statistics: downloads per day/week/month, per-source counts and success rates, bytes and
// speed, drawn as SVG bar charts by this file, with the numbers beside them.
import { api, bytes, h, replace } from "../dom.js";

export const TITLE = "Statistics";
const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** A bar chart of `rows` ([{label, value, title}]); its title is its accessible name. */
export function barChart(title, rows, format) {
  const width = 480, height = 200, left = 8, bottom = 30, top = 16;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const step = rows.length ? (width - left * 2) / rows.length : 0;
  const barWidth = Math.min(48, Math.max(2, step * 0.7));
  const every = Math.max(1, Math.ceil(rows.length / 8)); // at most ~8 labels fit
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title },
    s("title", {}, title),
    s("line", { x1: left, y1: height - bottom, x2: width - left, y2: height - bottom }));
  rows.forEach((r, i) => {
    const barHeight = ((height - bottom - top) * r.value) / max;
    const x = left + i * step + (step - barWidth) / 2;
    svg.append(s("rect", { class: `bar${r.failed ? " failed" : ""}`, x, y: height - bottom - barHeight, width: barWidth, height: barHeight },
      s("title", {}, `${r.label}: ${format(r.value)}`)));
    if (i % every === 0) svg.append(s("text", { x: x + barWidth / 2, y: height - bottom + 14, "text-anchor": "middle" }, r.label));
  });
  svg.append(s("text", { x: left, y: 12 }, `max ${format(max)}`));
  return h("figure", { class: "chart" }, svg, h("figcaption", {}, title));
}

export function show(main) {
  const by = h("select", { id: "stats-by" }, ["day", "week", "month"].map((p) => h("option", { value: p }, `per ${p}`)));
  const days = h("select", { id: "stats-days" }, [7, 30, 90, 365].map((d) => h("option", { value: d, selected: d === 30 }, `last ${d} days`)));
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const load = () => api("GET", `/api/stats?days=${days.value}&by=${by.value}`).then((st) => render(body, st))
    .catch((e) => replace(body, h("p", { class: "notice error", role: "alert" }, e.message)));
  by.addEventListener("change", load);
  days.addEventListener("change", load);
  replace(main, h("h1", {}, "Statistics"),
    h("div", { class: "toolbar" }, h("label", { for: "stats-days" }, "Period"), days,
      h("label", { for: "stats-by" }, "Grouped"), by),
    body);
  load();
}

function render(body, st) {
  const t = st.totals;
  const speed = (v) => (v ? `${bytes(v)}/s` : "—");
  const number = (label, value) => h("div", {}, h("dt", {}, label), h("dd", {}, value));
  const periods = st.periods || [];
  const sources = st.per_source || [];
  replace(body,
    h("dl", { class: "numbers-grid" },
      number("Downloads", t.downloads), number("Done", t.done), number("Failed", t.failed),
      number("Duplicates", t.duplicates), number("Invalid", t.invalid),
      number("Success rate", `${Math.round(t.success_rate * 100)}%`),
      number("Bytes", bytes(t.bytes)), number("Average speed", speed(t.avg_speed)),
      number("Median speed", speed(t.median_speed)), number("Video", `${(t.video_seconds / 3600).toFixed(1)} h`)),
    h("div", { class: "charts" },
      barChart(`Finished downloads per ${st.by}`, periods.map((p) => ({ label: p.period.slice(5) || p.period, value: p.totals.done })), String),
      barChart(`Failed downloads per ${st.by}`, periods.map((p) => ({ label: p.period.slice(5) || p.period, value: p.totals.failed, failed: true })), String),
      barChart(`Bytes per ${st.by}`, periods.map((p) => ({ label: p.period.slice(5) || p.period, value: p.totals.bytes })), bytes),
      barChart("Downloads per source", sources.map((x) => ({ label: x.source, value: x.downloads })), String)),
    h("h2", {}, "Per source"),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Source", "Downloads", "Done", "Success rate", "Bytes"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, sources.length ? sources.map((x) => h("tr", {},
        h("td", {}, x.source), h("td", {}, x.downloads), h("td", {}, x.done),
        h("td", {}, x.downloads ? `${Math.round((100 * x.done) / x.downloads)}%` : "—"), h("td", {}, bytes(x.bytes))))
        : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No downloads in this period."))))));
}
