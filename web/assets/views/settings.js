// Settings: the daemon's configuration (GET /api/config), each runtime setting changeable
// (PATCH /api/config). API keys read back masked and are set by typing a new one.
import { api, h, replace } from "../dom.js";

export const TITLE = "Settings";

export function show(main) {
  const body = h("tbody", {});
  const notice = h("p", { class: "notice", role: "status" });
  replace(main, h("h1", {}, "Settings"),
    h("p", { class: "muted" }, "Changes are checked by the daemon and take effect at once; API keys are never shown."),
    notice,
    h("div", { class: "table-wrap settings" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Setting", "Value", ""].map((c) => h("th", { scope: "col" }, c)))), body)));
  load(body, notice);
}

async function load(body, notice) {
  try {
    const settings = await api("GET", "/api/config");
    replace(body, settings.map((s) => row(s, body, notice)));
  } catch (e) {
    notice.textContent = e.message;
  }
}

function row(setting, body, notice) {
  const secret = /api_key/.test(setting.key);
  const id = `setting-${setting.key.replace(/[^a-z0-9_]/gi, "-")}`;
  const input = h("input", {
    id, type: secret ? "password" : "text", autocomplete: "off",
    value: secret ? "" : setting.value, placeholder: secret ? (setting.value ? "set (hidden); type a new key" : "not set") : "",
  });
  const save = async () => {
    let value = input.value.trim();
    if (secret && value === "") return;
    // Numbers and booleans go as JSON values; the daemon parses text settings itself.
    if (/^(true|false|-?\d+(\.\d+)?)$/.test(value)) value = JSON.parse(value);
    try {
      await api("PATCH", "/api/config", { [setting.key]: value });
      notice.classList.remove("error");
      notice.textContent = `${setting.key} saved.`;
      load(body, notice);
    } catch (e) {
      notice.classList.add("error");
      notice.textContent = `${setting.key}: ${e.message}`;
    }
  };
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") save(); });
  return h("tr", {},
    h("th", { scope: "row" }, h("label", { for: id }, setting.key), setting.runtime ? h("span", { class: "muted" }, " (set at runtime)") : ""),
    h("td", {}, input),
    h("td", {}, h("button", { type: "button", onclick: save, "aria-label": `Save ${setting.key}` }, "Save")));
}
