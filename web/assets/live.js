// The dashboard's live state, fed only by the daemon's event stream (GET /api/events): a
// snapshot to start from, then changes. EventSource reconnects by itself and sends
// Last-Event-ID, so the daemon replays what was missed (or sends a new snapshot).

const TYPES = ["snapshot", "job", "download", "progress", "breaker", "rate_limited", "retry", "lagged", "hello"];

/** Jobs by id, downloads by id (with their latest progress), the daemon's status. */
export const state = {
  jobs: new Map(),
  downloads: new Map(),
  status: null,
  connected: false,
};

const listeners = new Set();

/** Calls `fn(type, data)` after each event is applied; returns the unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(type, data) {
  for (const fn of listeners) {
    try { fn(type, data); } catch (e) { console.error(e); }
  }
}

/** Merges jobs read from /api/jobs (finished ones are not in the snapshot). */
export function mergeJobs(jobs) {
  for (const job of jobs) {
    const known = state.jobs.get(job.id);
    if (!known || known.updated_at <= job.updated_at) state.jobs.set(job.id, job);
  }
  emit("jobs", null);
}

function apply(type, data) {
  switch (type) {
    case "snapshot":
      state.status = data.status;
      for (const job of data.jobs) state.jobs.set(job.id, job);
      for (const d of data.downloads) state.downloads.set(d.id, d);
      break;
    case "job":
      state.jobs.set(data.id, data);
      break;
    case "download": {
      const old = state.downloads.get(data.id);
      state.downloads.set(data.id, Object.assign({}, old, data));
      break;
    }
    case "progress": {
      const d = state.downloads.get(data.download) || { id: data.download, job_id: data.job, state: "running" };
      d.bytes = data.bytes;
      d.total = data.total;
      d.speed = data.speed;
      if (d.state !== "running") d.state = "running";
      state.downloads.set(d.id, d);
      break;
    }
    default:
      break;
  }
  emit(type, data);
}

/** Opens the stream once. */
export function connect() {
  const source = new EventSource("/api/events");
  for (const type of TYPES) {
    source.addEventListener(type, (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      apply(type, data);
    });
  }
  source.addEventListener("open", () => { state.connected = true; emit("connection", true); });
  source.addEventListener("error", () => { state.connected = false; emit("connection", false); });
  return source;
}
