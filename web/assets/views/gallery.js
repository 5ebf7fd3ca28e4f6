// Gallery: the library as a thumbnail grid, keyset-paged (GET /api/library?cursor=) and loaded
// as the end of the grid scrolls into view, thumbnails fetched only when visible; a sprite of a
// few frames previews a video on hover; a click opens the player beside the video's metadata.
import { api, ApiError, bytes, duration, extLink, h, replace, when } from "../dom.js";

export const TITLE = "Gallery";
const PAGE = 60;
/** Cards kept in the DOM: beyond this the oldest page is dropped, so 10,000 videos stay fast. */
const MAX_CARDS = 300;
let grid, sentinel, player, filters, cursor, loading, done, usingHistory, observer, thumbs, generation = 0;

export function show(main, { search }) {
  grid = h("ul", { class: "cards", "aria-label": "Videos" });
  sentinel = h("p", { class: "muted", "aria-hidden": "true" }, "");
  player = h("section", { "aria-label": "Player", hidden: true });
  const theme = h("input", { id: "gallery-theme", type: "search", value: search || "" });
  const source = h("select", { id: "gallery-source" }, ["", "pexels", "pixabay", "wikimedia", "archive"].map((v) => h("option", { value: v }, v || "all")));
  const since = h("input", { id: "gallery-since", type: "date" });
  const until = h("input", { id: "gallery-until", type: "date" });
  filters = { theme, source, since, until };
  for (const el of [source, since, until]) el.addEventListener("change", reset);
  theme.addEventListener("input", () => { clearTimeout(theme.timer); theme.timer = setTimeout(reset, 250); });
  replace(main, h("h1", {}, "Gallery"),
    h("div", { class: "filters" },
      h("label", { for: "gallery-theme" }, "Theme", theme), h("label", { for: "gallery-source" }, "Source", source),
      h("label", { for: "gallery-since" }, "From", since), h("label", { for: "gallery-until" }, "To", until)),
    player, grid, sentinel);
  thumbs = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      const img = e.target;
      img.src = img.dataset.src;
      thumbs.unobserve(img);
    }
  }, { rootMargin: "200px" });
  observer = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) more(); }, { rootMargin: "400px" });
  observer.observe(sentinel);
  reset();
}

export function leave() {
  if (observer) observer.disconnect();
  if (thumbs) thumbs.disconnect();
  generation++;
}

export function search(value) {
  filters.theme.value = value;
  reset();
}

function reset() {
  generation++;
  cursor = null; done = false; loading = false;
  replace(grid);
  more();
}

function query() {
  const q = new URLSearchParams({ limit: PAGE });
  if (filters.theme.value.trim()) q.set("theme", filters.theme.value.trim());
  if (filters.source.value) q.set("source", filters.source.value);
  if (filters.since.value) q.set("since", filters.since.value);
  if (filters.until.value) q.set("until", filters.until.value);
  if (cursor) q.set("cursor", cursor);
  return q;
}

/** Reads the next page; falls back to the download history on a daemon without /api/library. */
async function more() {
  if (loading || done) return;
  loading = true;
  const mine = generation;
  sentinel.textContent = "Loading…";
  let items = [], next = null;
  try {
    if (!usingHistory) {
      try {
        const page = await api("GET", `/api/library?${query()}`);
        items = Array.isArray(page) ? page : page.items || page.videos || page.entries || [];
        next = Array.isArray(page) ? null : page.next_cursor || page.cursor || null;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        usingHistory = true;
      }
    }
    if (usingHistory) {
      const theme = filters.theme.value.trim();
      items = await api("GET", `/api/history?state=done&limit=500${theme ? `&theme=${encodeURIComponent(theme)}` : ""}`);
      next = null;
    }
  } catch (e) {
    if (mine === generation) sentinel.textContent = e.message;
    loading = false;
    return;
  }
  if (mine !== generation) return;
  grid.append(...items.map(normal).filter((v) => v.id !== undefined).map(card));
  while (grid.children.length > MAX_CARDS) grid.firstElementChild.remove();
  cursor = next;
  done = !next;
  loading = false;
  sentinel.textContent = grid.children.length ? (done ? "" : "More below…") : "No videos yet.";
}

/** One library entry in the shape the player wants, from /api/library's or history's rows. */
function normal(x) {
  const a = x.attribution || {}, p = x.probe || x.video || {};
  return {
    id: x.download ?? x.download_id ?? x.id,
    theme: x.theme, title: a.title ?? x.title ?? "", source: a.source ?? x.source, sourceId: a.source_id ?? x.source_id,
    author: a.author_name ?? x.author_name, authorUrl: a.author_url ?? x.author_url, license: a.license ?? x.license,
    page: a.page_url ?? x.page_url, width: p.width ?? x.width, height: p.height ?? x.height, codec: p.codec ?? x.codec,
    fps: p.fps ?? x.fps, bitrate: p.bitrate ?? x.bitrate, duration: p.duration ?? x.duration,
    bytes: x.bytes ?? x.size, finished: x.finished_at ?? x.created_at,
  };
}

function card(v) {
  const img = h("img", { class: "thumb", alt: "", "data-src": `/thumbs/${v.id}`, width: 320, height: 180 });
  // No thumbnail (yet): a plain tile instead of a broken image.
  img.addEventListener("error", () => img.replaceWith(h("span", { class: "thumb" })), { once: true });
  thumbs.observe(img);
  const button = h("button", { type: "button", "aria-label": `Play ${v.title || v.sourceId || v.id}`, onclick: () => play(v) },
    img, h("span", { class: "caption" }, v.title || v.sourceId || `video ${v.id}`));
  preview(button, img, v.id);
  return h("li", { class: "card", "data-id": v.id }, button);
}

/** Hovering (or focusing) a card steps through the frames of its sprite, as the pointer moves. */
function preview(button, img, id) {
  let sprite = null, frames = 1;
  const start = () => {
    if (sprite) return;
    sprite = new Image();
    sprite.addEventListener("load", () => {
      const ratio = (img.naturalWidth || 16) / (img.naturalHeight || 9);
      frames = Math.max(1, Math.round(sprite.naturalWidth / (sprite.naturalHeight * ratio)));
      img.style.backgroundImage = `url("/thumbs/${id}/sprite")`;
      img.style.backgroundSize = `${frames * 100}% 100%`;
    });
    sprite.src = `/thumbs/${id}/sprite`;
  };
  const step = (fraction) => {
    if (frames < 2) return;
    const frame = Math.min(frames - 1, Math.floor(fraction * frames));
    img.style.objectPosition = "-9999px 0"; // the poster steps aside for the sprite behind it
    img.style.backgroundPosition = `${(frame * 100) / (frames - 1)}% 0`;
  };
  const stop = () => { img.style.objectPosition = ""; };
  button.addEventListener("pointerenter", start);
  button.addEventListener("focus", () => { start(); step(0.5); });
  button.addEventListener("pointermove", (e) => {
    const box = button.getBoundingClientRect();
    step((e.clientX - box.left) / Math.max(1, box.width));
  });
  button.addEventListener("pointerleave", stop);
  button.addEventListener("blur", stop);
}

function play(v) {
  const video = h("video", { id: "player-video", controls: true, preload: "metadata", src: `/media/${v.id}`, "aria-label": v.title || "Video" });
  const row = (label, value) => [h("dt", {}, label), h("dd", {}, value ?? "?")];
  replace(player,
    h("h2", {}, v.title || v.sourceId || `Video ${v.id}`),
    h("div", { class: "player" },
      video,
      h("div", {},
        h("dl", {},
          row("Resolution", v.width && v.height ? `${v.width}×${v.height}` : "?"),
          row("Codec", v.codec), row("Frame rate", v.fps ? `${Math.round(v.fps * 100) / 100} fps` : "?"),
          row("Bitrate", v.bitrate ? `${Math.round(v.bitrate / 1000)} kbit/s` : "?"),
          row("Duration", v.duration ? duration(v.duration) : "?"), row("Size", bytes(v.bytes)),
          row("Source", v.source), row("Author", v.author ? extLink(v.authorUrl, v.author) : "?"),
          row("Licence", v.license), row("Page", v.page ? extLink(v.page) : "?"),
          row("Theme", v.theme), row("Added", v.finished ? when(v.finished) : "?")),
        h("p", {}, h("a", { href: `/media/${v.id}`, download: "", class: "button" }, "Download")),
        h("button", { type: "button", onclick: () => { video.pause(); player.hidden = true; } }, "Close player"))));
  player.hidden = false;
  player.scrollIntoView({ block: "start" });
  video.focus();
}
