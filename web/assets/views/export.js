// Export: the library's metadata as JSON or CSV downloads (GET /api/export), all or one job's.
import { h, replace } from "../dom.js";

export const TITLE = "Export";

export function show(main) {
  const job = h("input", { id: "export-job", type: "number", min: 1, placeholder: "all jobs" });
  const links = h("p", { class: "row" });
  const update = () => {
    const q = job.value ? `job=${encodeURIComponent(job.value)}&` : "";
    replace(links,
      h("a", { href: `/api/export?${q}format=json`, download: "vfetch-export.json", class: "button" }, "Download JSON"),
      h("a", { href: `/api/export?${q}format=csv`, download: "vfetch-export.csv", class: "button" }, "Download CSV"));
  };
  job.addEventListener("input", update);
  update();
  replace(main, h("h1", {}, "Export"),
    h("p", {}, "Every downloaded video's metadata and credit (title, author, licence, page), for a report or a spreadsheet."),
    h("div", { class: "field" }, h("label", { for: "export-job" }, "Only this job (number, optional)"), job),
    links);
}
