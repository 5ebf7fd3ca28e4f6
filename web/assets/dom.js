// Small helpers shared by the views. Every string is put into the page as text (textContent or
// an attribute), never as markup: titles, authors and errors come from providers and are hostile.

/** Builds an element: h("a", {href: "#"}, "text", child). Attributes starting "on" are listeners. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key in el && typeof el[key] !== "function" && key !== "list" && key !== "form") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Only http(s) links from a provider become links; anything else (javascript:, data:) is text. */
export function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

/** A link to a provider's page, or its text when the URL is not http(s). */
export function extLink(url, text) {
  const safe = safeUrl(url);
  return safe ? h("a", { href: safe, rel: "noopener noreferrer", target: "_blank" }, text || safe) : text || "";
}

/** An API error: status plus the problem document's detail. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** Calls the API with the session cookie; JSON in and out; throws ApiError with the detail. */
export async function api(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
  if (response.status === 401) {
    // The session ended: the login hint is what / shows now.
    location.assign("/");
  }
  if (!response.ok) throw new ApiError(response.status, (doc && doc.detail) || response.statusText);
  return doc;
}

/** 1536 -> "1.5 KB". */
export function bytes(n) {
  if (n === null || n === undefined) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Seconds -> "1:05" or "1:02:03". */
export function duration(s) {
  if (s === null || s === undefined || !isFinite(s)) return "?";
  s = Math.round(s);
  const hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60), seconds = s % 60;
  const mm = hours ? String(minutes).padStart(2, "0") : String(minutes);
  return `${hours ? hours + ":" : ""}${mm}:${String(seconds).padStart(2, "0")}`;
}

/** A timestamp as the browser's local date and time. */
export function when(ts) {
  const d = new Date(ts);
  return isNaN(d) ? String(ts) : d.toLocaleString();
}

/** Replaces a container's children. */
export function replace(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** Asks in the page's modal confirm dialog; resolves true when the user confirms. */
export function confirmAction(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}
