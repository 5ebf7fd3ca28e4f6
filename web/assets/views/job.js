// Job detail: the job, its downloads and candidates, errors in the daemon's plain words, and
// each video's credit (author, licence, page). Live: re-read when the stream says it changed.
import { api, bytes, extLink, h, replace, when } from "../dom.js";
import { subscribe } from "../live.js";

export const TITLE = "Job";
let unsubscribe = null, timer = null;

export function show(main, { arg }) {
  const id = Number(arg);
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("p", {}, h("a", { href: "#/queue" }, "← Queue")), body);
  const load = () => api("GET", `/api/jobs/${id}`).then((detail) => render(body, detail))
    .catch((e) => replace(body, h("p", { class: "notice error", role: "alert" }, e.message)));
  load();
  unsubscribe = subscribe((type, data) => {
    const mine = (type === "job" && data.id === id) || (type === "download" && data.job_id === id);
    if (mine) {
      // Several events arrive together when a download ends: read the job once for them.
      clearTimeout(timer);
      timer = setTimeout(load, 300);
    }
  });
}

export function leave() {
  if (unsubscribe) unsubscribe();
  clearTimeout(timer);
}

function render(body, { job, downloads, candidates }) {
  const byCandidate = new Map(candidates.map((c) => [c.id, c]));
  replace(body,
    h("h1", {}, `Job ${job.id}: `, job.theme),
    h("p", {}, h("span", { class: `state ${job.state}` }, job.state),
      ` ${job.done} of ${job.count} videos · priority ${job.priority} · added ${when(job.created_at)}`),
    job.errors.length ? h("ul", { class: "errors", "aria-label": "Errors" }, job.errors.map((e) => h("li", {}, e))) : null,
    h("h2", {}, "Downloads"),
    downloads.length === 0 ? h("p", { class: "muted" }, "None yet.") : h("div", { class: "table-wrap" },
      h("table", {},
        h("thead", {}, h("tr", {}, ["#", "Title", "Source", "State", "Size", "Credit", "Problem"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, downloads.map((d) => {
          const c = byCandidate.get(d.candidate_id);
          const a = c ? c.attribution : null;
          return h("tr", {},
            h("td", {}, d.id),
            h("td", { class: "title" }, a ? extLink(a.page_url, a.title || d.source_id) : d.source_id),
            h("td", {}, d.source),
            h("td", {}, d.state),
            h("td", {}, `${bytes(d.bytes)}${d.total ? ` / ${bytes(d.total)}` : ""}`),
            h("td", {}, a ? credit(a) : ""),
            h("td", {}, d.error ? d.error.message : (d.validation && d.validation.reason) || ""));
        })))),
    h("h2", {}, "Candidates"),
    candidates.length === 0 ? h("p", { class: "muted" }, "None found yet.") : h("div", { class: "table-wrap" },
      h("table", {},
        h("thead", {}, h("tr", {}, ["Rank", "Title", "Source", "State", "Size", "Resolution"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, candidates.map((c) => h("tr", {},
          h("td", {}, c.rank),
          h("td", { class: "title" }, extLink(c.attribution.page_url, c.attribution.title || c.attribution.source_id)),
          h("td", {}, c.attribution.source),
          h("td", {}, c.state),
          h("td", {}, c.size ? bytes(c.size) : "?"),
          h("td", {}, c.width && c.height ? `${c.width}×${c.height}` : "?")))))));
}

function credit(a) {
  return h("span", {}, a.author_name ? extLink(a.author_url, a.author_name) : "unknown author",
    a.license ? ` · ${a.license}` : "");
}
