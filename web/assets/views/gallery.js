// Gallery: the library as a thumbnail grid, keyset-paged (GET /api/library?cursor=) and loaded
// as the end of the grid scrolls into view, thumbnails fetched only when visible; a sprite of a
// few frames previews a video on hover; a click opens the player beside the video's metadata.
import { api, bytes, duration, extLink, h, replace, when } from "../dom.js";

export const TITLE = "Gallery";
const PAGE = 60;
/** Cards kept in the DOM: beyond this the oldest page is dropped, so 10,000 videos stay fast. */
const MAX_CARDS = 300;
let grid, sentinel, player, filters, cursor, loading, done, observer, thumbs, generation = 0;

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
  if (filters.until.value) {
    // "To" includes its day: the API's bound is the moment the next day starts.
    const next = new Date(`${filters.until.value}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    q.set("until", next.toISOString().slice(0, 10));
  }
  if (cursor) q.set("cursor", cursor);
  return q;
}

/** Reads the next page (keyset: the cursor is the last page's `next_cursor`). */
async function more() {
  if (loading || done) return;
  loading = true;
  const mine = generation;
  sentinel.textContent = "Loading…";
  let page;
  try {
    page = await api("GET", `/api/library?${query()}`);
  } catch (e) {
    if (mine === generation) sentinel.textContent = e.message;
    loading = false;
    return;
  }
  if (mine !== generation) return;
  grid.append(...page.videos.map(normal).map(card));
  while (grid.children.length > MAX_CARDS) grid.firstElementChild.remove();
  cursor = page.next_cursor;
  done = cursor === null || cursor === undefined;
  loading = false;
  sentinel.textContent = grid.children.length ? (done ? "" : "More below…") : "No videos yet.";
}

/** One /api/library video in the shape the card and the player want. */
function normal(x) {
  const a = x.attribution;
  return {
    id: x.download, theme: x.theme, title: a.title, source: a.source, sourceId: a.source_id,
    author: a.author_name, authorUrl: a.author_url, license: a.license, page: a.page_url,
    width: x.width, height: x.height, codec: x.codec, fps: x.fps, bitrate: x.bitrate,
    duration: x.duration, bytes: x.size, finished: x.finished_at,
    thumbnail: x.thumbnail, frames: x.sprite_frames || 0, fileName: x.file_name,
  };
}

function card(v) {
  // No thumbnail (yet): a plain tile instead of a broken image.
  const tile = () => h("span", { class: "thumb" });
  let img = tile();
  if (v.thumbnail) {
    img = h("img", { class: "thumb", alt: "", "data-src": `/thumbs/${v.id}`, width: 320, height: 180 });
    img.addEventListener("error", () => img.replaceWith(tile()), { once: true });
    thumbs.observe(img);
  }
  const name = v.title || v.sourceId || v.fileName;
  const button = h("button", { type: "button", "aria-label": `Play ${name}`, onclick: () => play(v) },
    img, h("span", { class: "caption" }, name));
  if (v.thumbnail && v.frames > 1) preview(button, img, v);
  return h("li", { class: "card", "data-id": v.id }, button);
}

/** Hovering (or focusing) a card steps through the frames of its sprite (tiled left to right),
 * as the pointer moves across it; fetched on the first hover only. */
function preview(button, img, v) {
  let started = false;
  const frames = v.frames;
  const start = () => {
    if (started) return;
    started = true;
    img.style.backgroundImage = `url("/thumbs/${v.id}/sprite")`;
    img.style.backgroundSize = `${frames * 100}% 100%`;
  };
  const step = (fraction) => {
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
