// dauys web verifier: the page. Reads the export (from this node, another
// node, a static mirror's entry bundles, or a file), cuts it into batches of
// whole lines, has signature workers on every core check the signatures,
// and feeds batches in order to the coordinator worker that runs the rule
// core. The main thread only moves bytes and draws. The citizens' portal
// (portal.js) reads the verified state from here and asks the coordinator
// the questions only the rule core can answer.
//
// Runs inside one function with i18n.js (T, t, lang) before it and
// portal.js after it.

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const DAY_MS = 86_400_000;
// Dates in the reader's language and time zone. Browsers ship without
// Kazakh month names (Chromium writes "2026 M11 30"), so Kazakh dates are
// written here: "30 қараша 2026 ж., 00:53".
const KK_MONTHS = ["қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан"];
function kkDate(ms, withTime) {
  const d = new Date(ms);
  const time = withTime ? `, ${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}` : "";
  return `${d.getDate()} ${KK_MONTHS[d.getMonth()]} ${d.getFullYear()} ж.${time}`;
}
const date = (ms) => (lang === "kk" ? kkDate(ms, true) : new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(ms)));
const day = (ms) => (lang === "kk" ? kkDate(ms, false) : new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(new Date(ms)));
// A UTC calendar day (supports are counted per UTC day).
const dayUtc = (ms) => (lang === "kk" ? kkDate(ms + new Date(ms).getTimezoneOffset() * 60_000, false)
  : new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(ms)));
const num = (n) => Number(n).toLocaleString(lang);
const short = (hex) => (hex ? hex.slice(0, 12) + "…" : "");

// `summary` is the verified state as of its last entry; `present` is the
// same state with time-dependent statuses judged at this device's clock;
// `partial` is what is known while the replay runs (not yet verified).
let state = { summary: null, present: null, partial: null, failure: null, entries: 0, running: false };

function applyLanguage() {
  document.documentElement.lang = lang;
  document.title = t("docTitle");
  $("lang").value = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  if (state.entries || state.running) $("progress-text").textContent = t("progress", { n: state.entries });
  // Results on screen, in the new language.
  if (lastFound && $("found").querySelector("li, p:not(.bad)")) showFound(lastFound);
  if (receiptLines.length) drawReceiptLines();
  render();
}

// ---- workers --------------------------------------------------------
// The wasm, its glue and the worker's code come after this script in the
// page, so the page answers input while they still download (a phone on a
// slow network); everything that needs them waits for the whole document.
const payload = new Promise((resolve) => {
  if (document.readyState !== "loading") resolve();
  else document.addEventListener("DOMContentLoaded", () => resolve(), { once: true });
}).then(() => ({ glue: $("glue").textContent, worker: $("worker-src").textContent, wasm: $("wasm").textContent }));
const workerUrl = payload.then((p) => URL.createObjectURL(new Blob([p.glue, "\n", p.worker], { type: "text/javascript" })));
// The wasm is embedded gzipped, then base64 (the page stays one file).
const modulePromise = payload.then(async (p) => {
  const packed = Uint8Array.from(atob(p.wasm.trim()), (c) => c.charCodeAt(0));
  const unpacked = await new Response(new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
  return WebAssembly.compile(unpacked);
});
// The same module in this thread (the glue's `wasm_bindgen`, a script of
// the page), for the quick checks (receipts, a mirror's entry bundles, the
// device key); the replay stays in the workers.
const mainWasm = modulePromise.then((module) => {
  wasm_bindgen.initSync({ module });
  return wasm_bindgen;
});

// Questions for the coordinator, which holds the replayed ledger.
let asked = 0;
const answers = new Map();
function ask(method, ...args) {
  if (!state.coordinator || !state.summary) return Promise.reject(new Error(t("notVerifiedYet")));
  const id = ++asked;
  return new Promise((resolve, reject) => {
    answers.set(id, { resolve, reject });
    state.coordinator.postMessage({ type: "ask", id, method, args });
  });
}
function answered(m) {
  const waiting = answers.get(m.id);
  if (!waiting) return;
  answers.delete(m.id);
  if (m.error) waiting.reject(new Error(m.error)); else waiting.resolve(m.value);
}

// ---- the transparency log (format 2) ------------------------------------
// Checkpoints seen in this browser, per log verifier key: {size, root}.
const SEEN = "dauys.seen";
const seenStore = () => { try { return JSON.parse(localStorage.getItem(SEEN) || "{}"); } catch (e) { return {}; } };
function remember(key, note) {
  const [, size, root] = note.split("\n");
  const all = seenStore();
  if (!all[key] || all[key].size < Number(size)) {
    all[key] = { size: Number(size), root };
    localStorage.setItem(SEEN, JSON.stringify(all));
  }
}
const checkpointSize = (note) => Number((note || "").split("\n")[1]) || 0;
const trust = () => ({ witnesses: $("witnesses").value, quorum: Math.max(0, Number($("quorum").value) || 0) });
// C2SP tlog-tiles paths: tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>].
function tilePath(level, n, width) {
  const parts = [String(n % 1000).padStart(3, "0")];
  for (n = Math.floor(n / 1000); n > 0; n = Math.floor(n / 1000)) parts.unshift("x" + String(n % 1000).padStart(3, "0"));
  return "tile/" + (level === null ? "entries" : level) + "/" + parts.join("/") + (width < 256 ? ".p/" + width : "");
}
async function fetchText(url) {
  try { const r = await fetch(url, { cache: "no-store" }); return r.ok ? await r.text() : null; } catch (e) { return null; }
}
async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(url + ": " + r.status);
  return new Uint8Array(await r.arrayBuffer());
}
const base64 = (bytes) => {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
// A static mirror's entries, bundle by bundle, as export lines.
function mirrorStream(base, size) {
  let index = 0;
  return new ReadableStream({
    async pull(controller) {
      if (index * 256 >= size) { controller.close(); return; }
      const width = Math.min(256, size - index * 256);
      try {
        const bundle = await fetchBytes(base + "/" + tilePath(null, index, width));
        controller.enqueue((await mainWasm).bundleLines(bundle, index * 256, width));
        index++;
      } catch (e) { controller.error(e); }
    },
  });
}

async function spawn(role, module) {
  const url = await workerUrl;
  return new Promise((resolve, reject) => {
    const w = new Worker(url);
    w.onmessage = (e) => { if (e.data.type === "ready") resolve(w); else reject(new Error(e.data.message)); };
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage({ type: "init", role, module });
  });
}

// Where the ledger is read from and acts are sent to.
function currentBase() {
  const choice = document.querySelector("input[name=source]:checked").value;
  if (choice === "url" && $("url").value) return $("url").value.replace(/\/+$/, "");
  return location.protocol.startsWith("http") ? location.origin : null;
}

async function openSource() {
  const choice = document.querySelector("input[name=source]:checked").value;
  if (choice === "file") {
    const file = $("file").files[0];
    if (!file) throw new Error(t("chooseFile"));
    return { stream: file.stream(), total: file.size };
  }
  let base = location.origin;
  if (choice === "url") {
    if (!$("url").value) throw new Error(t("chooseUrl"));
    base = $("url").value.replace(/\/+$/, "");
  }
  // A format 2 node publishes a checkpoint, fetched before the export so
  // the export holds it; a static mirror has only the checkpoint and tiles.
  // The checkpoint's size is also the progress bar's hint.
  const note = await fetchText(base + "/tlog/checkpoint");
  if (note) {
    const response = await fetch(base + "/v1/export", { cache: "no-store" });
    if (!response.ok) throw new Error(response.status + " " + response.statusText);
    return { stream: response.body, total: 0, entries: checkpointSize(note), note, fromLog: true, base };
  }
  const mirrored = await fetchText(base + "/checkpoint");
  if (mirrored && /^[^\n]+\n\d+\n[^\n]+\n\n/.test(mirrored)) {
    return { stream: mirrorStream(base, checkpointSize(mirrored)), total: 0, entries: checkpointSize(mirrored), note: mirrored };
  }
  // A format 1 node: its signed head (the export is streamed without a
  // length; the head gives the entry count for the progress bar).
  let entries = 0, headJson = null;
  try {
    headJson = await (await fetch(base + "/v1/head", { cache: "no-store" })).text();
    entries = JSON.parse(headJson).size || 0;
  } catch (e) { headJson = null; }
  const response = await fetch(base + "/v1/export", { cache: "no-store" });
  if (!response.ok) throw new Error(response.status + " " + response.statusText);
  return { stream: response.body, total: Number(response.headers.get("content-length")) || 0, entries, headJson, fromLog: true, base };
}

// Listeners that want to know when a verification ends (the portal).
const onVerified = [];

async function verify() {
  if (state.running) return state.done;
  if (state.coordinator) state.coordinator.terminate();
  for (const [, waiting] of answers) waiting.reject(new Error(t("notVerifiedYet")));
  answers.clear();
  // Nothing of a previous verification stays on screen.
  let settle;
  const done = new Promise((resolve) => { settle = resolve; });
  state = { summary: null, present: null, partial: null, failure: null, entries: 0, running: true, started: performance.now(), head: null, checkpoint: null, done };
  $("start").disabled = true;
  render();
  const module = await modulePromise;
  const count = Math.max(1, Math.min(16, navigator.hardwareConcurrency || 2));
  state.workers = count;
  const coordinator = await spawn("coordinator", module);
  const signers = await Promise.all(Array.from({ length: count }, () => spawn("signatures", module)));
  state.coordinator = coordinator;
  let source;
  try { source = await openSource(); } catch (e) { fail(e.message, [coordinator, ...signers], "network"); settle(); return; }
  state.expectedEntries = source.entries || 0;
  // Acts go where the verified log came from.
  const sourceBase = source.fromLog ? source.base : null;
  if (source.note) {
    // The roots to note during the replay: the checkpoint's size, and the
    // sizes of this log's checkpoints seen before in this browser.
    const origin = source.note.split("\n")[0];
    const sizes = [checkpointSize(source.note)];
    for (const [key, seen] of Object.entries(seenStore())) if (key.startsWith(origin + "+")) sizes.push(seen.size);
    coordinator.postMessage({ type: "want", sizes });
  }
  const reader = source.stream.getReader();
  const BATCH = 256 * 1024;
  const LINE_BYTES_MAX = 131584; // FORMAT.md section 6: longer is malformed_line
  let overlong = false;
  let pending = new Uint8Array(0);
  let nextId = 0, nextToCheck = 0, bytesRead = 0, free = signers.slice();
  let ballotKeys = null;
  const signed = new Map();
  const waiters = [];
  let finishedAlready = false;
  // The checks after the replay (the checkpoint against the tree, the signed
  // head): a verification is over only once they answered.
  let checkpointAnswered, headAnswered;
  const checkpointDone = new Promise((resolve) => { checkpointAnswered = resolve; });
  const headDone = new Promise((resolve) => { headAnswered = resolve; });
  const finished = new Promise((resolve) => {
    coordinator.onmessage = (e) => {
      const m = e.data;
      if (m.type === "progress") {
        state.entries = m.entries;
        // Election keys learned so far: workers check the next batches'
        // secret ballots against them.
        if (m.keys && m.keys.indexOf('"keys":{}') < 0) ballotKeys = m.keys;
        progress(bytesRead, source.total);
      }
      else if (m.type === "snapshot") { if (state.running) { state.partial = m.summary; render(); } }
      else if (m.type === "done" || m.type === "failed" || m.type === "error") { if (!finishedAlready) { finishedAlready = true; resolve(m); } }
      else if (m.type === "answer") answered(m);
      else if (m.type === "headChecked") { state.head.ok = m.ok; headAnswered(); }
      else if (m.type === "checkpointChecked") {
        state.checkpoint = m.report;
        if (m.report.log_key) state.logKey = m.report.log_key;
        if (m.report.ok) remember(m.report.log_key, source.note);
        checkpointAnswered();
      }
    };
  });
  for (const s of signers) s.onmessage = (e) => {
    const m = e.data;
    signed.set(m.id, m);
    free.push(s);
    while (signed.has(nextToCheck)) {
      const r = signed.get(nextToCheck); signed.delete(nextToCheck);
      coordinator.postMessage({ type: "check", id: r.id, batch: r.batch, verdicts: r.verdicts, ballots: r.ballots },
        [r.batch.buffer, r.verdicts.buffer, r.ballots.buffer]);
      nextToCheck++;
    }
    const w = waiters.shift(); if (w) w();
  };
  const send = async (batch) => {
    while (free.length === 0) await new Promise((r) => waiters.push(r));
    const worker = free.shift();
    worker.postMessage({ type: "sign", id: nextId++, batch, keys: ballotKeys }, [batch.buffer]);
  };
  try {
    // Chunks are gathered until a batch is full, then joined once and cut
    // at the last newline; the remainder starts the next batch.
    let chunks = [], gathered = 0;
    const join = () => {
      const all = new Uint8Array(gathered);
      let offset = 0;
      for (const c of chunks) { all.set(c, offset); offset += c.length; }
      chunks = []; gathered = 0;
      return all;
    };
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end || finishedAlready) break; // the coordinator already found the first failure
      bytesRead += value.length;
      chunks.push(value); gathered += value.length;
      if (gathered < BATCH) continue;
      const all = join();
      const cut = all.lastIndexOf(10);
      if (cut < 0) {
        // No newline yet: past the line limit this cannot become a line.
        chunks = [all]; gathered = all.length;
        if (gathered > LINE_BYTES_MAX) { overlong = true; break; }
        continue;
      }
      await send(all.slice(0, cut + 1));
      if (cut + 1 < all.length) { chunks = [all.subarray(cut + 1)]; gathered = all.length - cut - 1; }
    }
    pending = join();
    const last = pending.lastIndexOf(10);
    if (last >= 0) { await send(pending.slice(0, last + 1)); pending = pending.slice(last + 1); }
  } catch (e) {
    // The download broke off: not a forgery, a connection to retry.
    fail(e.message, [coordinator, ...signers], "network");
    settle();
    return;
  }
  // Wait for every batch to reach the coordinator, then finish.
  while (nextToCheck < nextId && !finishedAlready) await new Promise((r) => waiters.push(r));
  coordinator.postMessage({ type: "finish", partial: overlong ? LINE_BYTES_MAX + 1 : pending.length, now: Date.now() });
  const result = await finished;
  for (const s of signers) s.terminate();
  state.seconds = (performance.now() - state.started) / 1000;
  if (result.type === "done") {
    state.summary = result.summary; state.present = result.present; state.entries = result.entries;
    state.base = sourceBase;
    // The node's signed head, fetched before the export: check its
    // signature with the log key the verified genesis publishes.
    if (!source.note && result.summary.origin && source.fromLog) {
      // A format 2 log that withholds its checkpoint cannot be compared
      // with what this browser saw: not a pass.
      state.checkpoint = { ok: false, size: 0, cosigned_by: [], log_key: "", problem: t("cpMissing") };
    }
    if (source.note) {
      const { witnesses, quorum } = trust();
      coordinator.postMessage({ type: "checkpoint", note: source.note, witnesses, quorum, seen: JSON.stringify(seenStore()) });
      await checkpointDone;
    }
    if (source.headJson) {
      const head = JSON.parse(source.headJson);
      state.head = { size: head.size, matches: head.size === result.summary.size && head.head_hash === result.summary.head, ok: null };
      coordinator.postMessage({ type: "checkHead", json: source.headJson, key: result.summary.log_key });
      await headDone;
    }
  }
  else if (result.type === "failed") {
    state.failure = result.failure; state.entries = result.entries;
    state.failedTarget = result.target; state.context = result.context;
  }
  else { state.error = { message: result.message, kind: "engine" }; }
  // Over: the replay and the checks after it.
  state.running = false;
  state.partial = null;
  $("start").disabled = false;
  state.expectedEntries = 0;
  progress(bytesRead, bytesRead);
  render();
  settle();
  for (const listener of onVerified) listener();
}

function fail(message, workers, kind) {
  for (const w of workers) w.terminate();
  state.running = false;
  state.partial = null;
  state.coordinator = null;
  state.error = { message, kind };
  $("start").disabled = false;
  render();
  for (const listener of onVerified) listener();
}

function progress(read, total) {
  const p = $("progress");
  if (state.expectedEntries) { p.max = state.expectedEntries; p.value = Math.min(state.entries, state.expectedEntries); }
  else if (total) { p.max = total; p.value = Math.min(read, total); } else p.removeAttribute("value");
  $("progress-text").textContent = t("progress", { n: state.entries });
}

// ---- drawing ----------------------------------------------------------
// A bar of parts against a threshold, in HTML so its text keeps the page's
// size on a phone.
function bar(parts, threshold, label) {
  const total = parts.reduce((a, p) => a + p.value, 0);
  const max = Math.max(threshold, total, 1);
  const segs = parts.map((p) => `<span class="seg ${p.cls}" style="width:${(p.value / max) * 100}%"></span>`).join("");
  return `<div class="bar" role="img" aria-label="${esc(label)}">${segs}<span class="mark" style="left:${(threshold / max) * 100}%"></span></div>`;
}

// A petition's status as a citizen reads it now: a petition whose
// referendum was declared says so, with the outcome.
function petitionStatus(p, summary) {
  if (p.referendum) {
    const r = summary.referendums.find((x) => x.id === p.referendum);
    if (r && r.declared) return { key: "declared_" + r.declared, cls: r.declared === "approved" ? "good" : "bad" };
  }
  const cls = ["accepted", "in_referendum"].includes(p.status) ? "good" : ["lapsed", "rejected", "withdrawn", "ruling_overdue"].includes(p.status) ? "bad" : "";
  return { key: p.status, cls };
}

const optionName = (o) => t("options." + o, null, o);
const subjectName = (s) => t("subjects." + s, null, s);
const kindName = (k) => t("kinds." + k, null, k.replace(/_/g, " "));

// The state to draw: verified (judged now), or what the replay knows so far.
const shown = () => state.present || state.partial;

function stateLine() {
  const line = $("state-line");
  if (state.running) {
    line.dataset.state = "running";
    line.textContent = state.partial ? t("partialLine", { n: state.entries }) : t("running");
  } else if (state.present) {
    line.dataset.state = state.checkpoint && !state.checkpoint.ok ? "invalid" : "valid";
    line.textContent = t("asOfLine", { now: date(state.present.as_of_ms), last: date(state.present.time_ms), n: state.present.size });
  } else if (state.failure || state.error) {
    line.dataset.state = "invalid";
    line.textContent = state.error && state.error.kind === "network" ? t("cutOffShort") : t("invalidShort");
  } else {
    line.dataset.state = "pending";
    line.textContent = t("pending");
  }
}

function render() {
  stateLine();
  renderVerdict();
  renderReferendums();
  renderDistricts();
  renderPortal();
}

function renderVerdict() {
  const v = $("verdict"), facts = $("facts"), explain = $("explain");
  facts.innerHTML = ""; explain.innerHTML = "";
  delete v.dataset.position;
  if (state.running) { v.dataset.verdict = "running"; v.textContent = t("running"); return; }
  if (state.error) {
    v.dataset.verdict = "error";
    if (state.error.kind === "network") {
      v.textContent = t("cutOff");
      explain.innerHTML = `<p>${esc(t("cutOffWhat"))}</p><details><summary>${esc(t("technical"))}</summary><p class="mono">${esc(state.error.message)}</p></details>`;
    } else v.textContent = t("error", { m: state.error.message });
    return;
  }
  if (state.failure) {
    const f = state.failure;
    const truncated = f.code === "truncated_line";
    v.dataset.verdict = "invalid";
    v.dataset.position = f.position;
    v.dataset.entries = state.entries;
    v.textContent = truncated ? t("cutOff") : t("invalidTitle");
    explain.innerHTML = explainFailure(f, truncated);
    return;
  }
  const s = state.summary;
  if (!s) { v.dataset.verdict = "pending"; v.textContent = t("pending"); return; }
  v.dataset.verdict = "valid";
  v.dataset.entries = s.size;
  v.textContent = t("valid", { n: s.size });
  facts.innerHTML = `<dt>${t("jurisdiction")}</dt><dd>${esc(s.jurisdiction)}</dd>
    <dt>${t("entries")}</dt><dd>${num(s.size)}</dd><dt>${t("lastEntry")}</dt><dd>${date(s.time_ms)}</dd>
    <dt>${t("enrolled")}</dt><dd>${num(s.enrolled)}</dd>
    <dt>${t("head")}</dt><dd class="mono">${s.head}</dd><dt>${t("ledger")}</dt><dd class="mono">${s.ledger_id}</dd>` + headFact() + checkpointFact();
  if (state.checkpoint && !state.checkpoint.ok) {
    v.dataset.verdict = "invalid";
    v.textContent = t("cpInvalid");
  }
}

// An invalid verdict in the reader's words: what it means, what it
// touches, what to do; the engine's own message only under "details".
function explainFailure(f, truncated) {
  const reason = t("reasons." + f.code, null, "");
  let touches = "";
  const ctx = state.context;
  if (state.failedTarget && ctx) {
    const p = ctx.petitions.find((x) => x.id === state.failedTarget);
    const r = ctx.referendums.find((x) => x.id === state.failedTarget);
    if (p) touches = t("touchesPetition", { title: p.title });
    else if (r) touches = t("touchesReferendum", { title: r.question });
  }
  const what = truncated ? t("cutOffWhat") : t("invalidWhat", { p: num(f.position), n: f.position });
  const next = truncated ? "" : `<p>${esc(t("invalidNext"))}</p>`;
  return `<p>${esc(what)}</p>${reason ? `<p><strong>${esc(t("reason"))}:</strong> ${esc(reason)}</p>` : ""}
    ${touches ? `<p>${esc(touches)}</p>` : ""}${next}
    <details><summary>${esc(t("technical"))}</summary><p class="mono">${esc(t("position"))} ${f.position} · ${esc(f.code)} · ${esc(f.message)}</p></details>`;
}

function renderReferendums() {
  const s = shown();
  const el = $("referendums");
  if (!s) { el.innerHTML = ""; return; }
  el.innerHTML = (state.present ? "" : unverifiedNote()) + (s.referendums.length ? s.referendums.map((r) => referendumCard(r, s)).join("") : `<p>${t("noneYet")}</p>`);
}

function unverifiedNote() {
  return `<p class="unverified">${esc(t("notYetVerified", { n: state.entries }))}</p>`;
}

function referendumCard(r, s) {
  const valid = r.tally.reduce((a, b) => a + b, 0);
  const needed = Math.max(Math.floor((s.rules.approval_share_bp * valid) / 10000) + 1, Math.ceil((s.rules.yes_share_of_electorate_bp * r.electorate) / 10000));
  const sec = r.secret;
  const sealed = sec && !r.declared;
  const outcome = r.declared || (r.phase === "closed" && !sec ? r.computed_outcome : null);
  const list = (xs) => xs.length ? xs.map((i) => "#" + i).join(", ") : "—";
  const petition = s.petitions.find((p) => p.id === r.petition);
  const secretBlock = sec ? `<div class="secret"><p><strong>${t("secretBallot")}</strong>: ${esc(t("anyDecrypt", { k: sec.threshold, n: sec.trustees.length }))}
    ${t("ceremonyWord")}: <strong>${t("ceremony." + sec.ceremony)}</strong>${sec.failed_accused !== null && sec.failed_accused !== undefined ? " — " + t("failedBy", { a: sec.failed_accused }) : ""}.</p>
    <p class="meta">${esc(t("counted", { n: sec.ballots_counted }))} · ${esc(t("superseded", { n: sec.ballots_superseded }))}</p>
    ${sec.decryption_shares.length ? `<p class="meta">${esc(t("decryptedBy", { list: list(sec.decryption_shares), k: sec.threshold }))}; ${esc(t("absentTrustees", { list: list(sec.trustees.map((_, i) => i).filter((i) => !sec.decryption_shares.includes(i))) }))}</p>` : ""}
    <p class="meta">${t("secretNote")}</p>${sealed ? `<p>${t("sealed")}</p>` : ""}</div>` : "";
  const max = Math.max(needed, ...r.tally, 1);
  const rows = sealed ? "" : `<div class="tally" role="img" aria-label="${esc(r.options.map((o, i) => optionName(o) + " " + r.tally[i]).join(", "))}; ${esc(t("needed"))} ${needed}">` +
    r.options.map((o, i) => `<div class="tally-row"><span class="opt">${esc(optionName(o))}</span><span class="track"><span class="seg ${i === 0 ? "yes" : "other"}" style="width:${(r.tally[i] / max) * 100}%"></span><span class="mark" style="left:${(needed / max) * 100}%"></span></span><span class="n">${num(r.tally[i])}</span></div>`).join("") +
    `<p class="meta">${esc(t("neededExplain", { n: needed }))}</p></div>`;
  const vote = r.phase === "open" && state.present ? `<p><a class="button" href="#/vote/${r.id}">${t("voteHere")}</a></p>` : "";
  return `<div class="item" id="referendum-${r.id}"><h3>${esc(r.question)}</h3>
    <p><span class="badge ${outcome === "approved" ? "good" : outcome ? "bad" : ""}">${t("phase." + r.phase)}${outcome ? " · " + t(outcome) : ""}</span>
    <span class="meta">${date(r.opens_at_ms)} – ${date(r.closes_at_ms)} · ${esc(t("ballotsOf", { n: sec ? sec.ballots_counted : valid, e: num(r.electorate) }))}</span></p>
    ${petition ? `<p class="meta">${t("onPetition")}: <a href="#/petition/${petition.id}">${esc(petition.title)}</a></p>` : ""}
    ${secretBlock}${rows}${vote}</div>`;
}

function renderDistricts() {
  const s = shown();
  const el = $("districts");
  if (!s) { el.innerHTML = ""; return; }
  const maxE = Math.max(1, ...s.districts.map((d) => d.enrolled));
  el.innerHTML = `<table><thead><tr><th scope="col">${t("district")}</th><th scope="col">${t("enrolledShort")}</th><th scope="col">${t("supports")}</th><th scope="col">${t("ballotsShort")}</th></tr></thead><tbody>` +
    s.districts.map((d) => `<tr><th scope="row">${esc(d.name || t("none"))}</th><td class="num">${num(d.enrolled)}<span class="mini" aria-hidden="true"><span style="width:${(d.enrolled / maxE) * 100}%"></span></span></td><td class="num">${num(d.supports)}</td><td class="num">${num(d.ballots)}</td></tr>`).join("") +
    "</tbody></table>";
}

function headFact() {
  const h = state.head;
  if (!h || h.ok === null) return "";
  let text;
  if (!h.ok) text = "✗ " + t("headBad");
  else if (h.matches) text = "✓ " + t("headOk");
  else text = "✓ " + t("headOther", { n: h.size, m: state.summary.size });
  return `<dt>${t("signedHead")}</dt><dd id="signed-head" data-ok="${h.ok}" data-matches="${h.matches}">${esc(text)}</dd>`;
}

function checkpointFact() {
  const c = state.checkpoint;
  if (!c) return "";
  let text;
  if (!c.ok) text = "✗ " + t("cpBad", { p: c.problem });
  else {
    const w = c.cosigned_by.length ? t("cpCosigned", { w: c.cosigned_by.join(", ") }) : "";
    text = "✓ " + t("cpOk", { w, n: c.size }) + (c.seen_before !== null && c.seen_before !== undefined ? t("cpSeen", { m: c.seen_before, n: c.seen_before }) : t("cpFirst"));
  }
  return `<dt>${t("checkpoint")}</dt><dd id="checkpoint" data-ok="${c.ok}" data-size="${c.size}">${esc(text)}<br><code>${esc(c.log_key)}</code></dd>`;
}

// ---- check my receipt ---------------------------------------------------
// The log's latest checkpoint and where its tiles are.
async function latestCheckpoint(base) {
  if (!base) return { latest: null, prefix: null };
  let latest = await fetchText(base + "/tlog/checkpoint");
  const prefix = latest ? base + "/tlog" : base;
  if (!latest) latest = await fetchText(base + "/checkpoint");
  return { latest, prefix };
}

// Whether the log's latest checkpoint still holds the act of receipt
// `text`: a consistency proof from a few tiles. {state: "ok" | "pending"
// | "vanished", step, fetched}.
async function stillThere(text, key, latest, prefix) {
  const wasm = await mainWasm;
  const { witnesses, quorum } = trust();
  const tiles = {};
  let fetched = 0;
  for (let round = 0; round < 8; round++) {
    const step = JSON.parse(wasm.consistencyStep(text, latest, key, witnesses, quorum, JSON.stringify(seenStore()), JSON.stringify(tiles)));
    if (step.missing.length) {
      await Promise.all(step.missing.map(async (path) => { tiles[path] = base64(await fetchBytes(prefix + "/" + path)); fetched++; }));
      continue;
    }
    // Only a proof of two histories is "vanished"; a check that could not
    // be made (a broken mirror, a witness quorum not met) is "unchecked".
    if (!step.ok) return { state: step.fork ? "vanished" : "unchecked", step, fetched };
    remember(key, latest);
    // Not covered: the receipt is newer than the checkpoint the log serves
    // (which waits for witnesses): one history, not yet witnessed.
    return { state: step.covered ? "ok" : "pending", step, fetched };
  }
  throw new Error("tiles kept missing");
}

async function logKeyFor(base, latest, prefix) {
  if (state.logKey) return state.logKey;
  const bundle = await fetchBytes(prefix + "/" + tilePath(null, 0, Math.min(256, checkpointSize(latest))));
  return (await mainWasm).genesisLogKey(bundle);
}

// "Check my receipt"'s lines, each drawn in the reader's current language.
let receiptLines = [];
function drawReceiptLines() {
  $("receipt-result").innerHTML = receiptLines.map(([cls, text]) => `<p class="${cls}">${esc(text())}</p>`).join("");
}

async function checkReceipt() {
  const out = $("receipt-result");
  const say = (cls, text) => { receiptLines.push([cls, typeof text === "function" ? text : () => text]); drawReceiptLines(); };
  receiptLines = [];
  out.innerHTML = "";
  let text = $("receipt-text").value.trim() ? $("receipt-text").value : "";
  const file = $("receipt-file").files[0];
  if (!text && file) text = await file.text();
  if (!text) return say("bad", () => t("rcNoText"));
  // The JSON a node answers an act with carries the receipt as `proof`.
  if (text.trim().startsWith("{")) { try { const json = JSON.parse(text); if (json.proof) text = json.proof; } catch (e) { /* not JSON */ } }
  out.dataset.state = "checking";
  say("", () => t("rcChecking"));
  const wasm = await mainWasm;
  const { latest, prefix } = await latestCheckpoint(currentBase());
  let key = $("log-key").value.trim() || state.logKey || "";
  receiptLines = [];
  out.innerHTML = "";
  try {
    if (!key && latest) {
      key = await logKeyFor(null, latest, prefix);
      say("", () => t("rcKeyFromNode", { k: key }));
    }
    const { witnesses } = trust();
    // The receipt alone: its own checkpoint need only be signed by the
    // log (a node answers at once); witnesses vouch for the latest.
    const report = JSON.parse(wasm.checkReceipt(text, key, witnesses, 0));
    if (!report.ok) { out.dataset.state = "bad"; return say("bad", () => t("rcBad", { p: report.problem })); }
    const w = report.cosigned_by.length ? t("cpCosigned", { w: report.cosigned_by.join(", ") }) : "";
    say("ok", () => "✓ " + t("rcOk", { i: report.index, kind: kindName(report.kind), time: date(report.time_ms), n: report.size, w }));
    if (!latest) { out.dataset.state = "offline"; return say("", () => t("rcOffline")); }
    const result = await stillThere(text, key, latest, prefix);
    out.dataset.tiles = result.fetched;
    out.dataset.state = result.state === "vanished" ? "bad" : result.state;
    if (result.state === "vanished") return say("bad", () => "✗ " + t("rcStillBad", { p: result.step.problem }));
    if (result.state === "unchecked") return say("", () => t("rcCannot", { p: result.step.problem }));
    if (result.state === "pending") return say("", () => "… " + t("rcPending", { n: result.step.latest_size, i: report.index }));
    const cw = result.step.cosigned_by.length ? t("cpCosigned", { w: result.step.cosigned_by.join(", ") }) : "";
    return say("ok", () => "✓ " + t("rcStill", { n: result.step.latest_size, w: cw, t: result.fetched }));
  } catch (e) {
    out.dataset.state = "bad";
    say("bad", () => t("rcBad", { p: e.message || String(e) }));
  }
}

// ---- find my act ----------------------------------------------------------
let lastFound = null;
function showFound(acts) {
  lastFound = acts;
  const s = state.present;
  const about = (id) => {
    if (!id || !s) return "";
    const p = s.petitions.find((x) => x.id === id);
    if (p) return `${t("about")}: <a href="#/petition/${p.id}">${esc(p.title)}</a> (${t("status." + petitionStatus(p, s).key)})`;
    const r = s.referendums.find((x) => x.id === id);
    if (r) return `${t("about")}: ${esc(r.question)} (${t("phase." + r.phase)})`;
    return `${t("about")} <code>${short(id)}</code>`;
  };
  $("found").innerHTML = acts.length ? "<ul>" + acts.map((a) =>
    `<li>${esc(t("entryNo", { n: a.position }))}: <strong>${esc(kindName(a.kind))}</strong> — ${a.counts ? t("counts") + " ✓" : t("supersededAct")}<br>${about(a.target)}<br><code class="mono">${a.hash}</code></li>`).join("") + "</ul>"
    : `<p>${t("noActs")}</p>`;
}

async function findActs(query) {
  query = query.trim();
  const found = $("found");
  // A secret key is never a search term: recognise one, say so, and forget it.
  const wasm = await mainWasm;
  const kind = wasm.keyTextKind(query);
  if (kind !== "other" || (/^[0-9a-f]{64}$/i.test(query) && state.summary && await ask("isKnownSecret", query.toLowerCase()))) {
    $("find").value = "";
    found.innerHTML = `<p class="bad" role="alert">${esc(t("findSecret"))}</p>`;
    return;
  }
  if (!/^[0-9a-f]{64}$/i.test(query)) { found.innerHTML = `<p class="bad">${esc(t("findNotKey"))}</p>`; return; }
  try { showFound(await ask("find", query.toLowerCase())); } catch (e) { found.innerHTML = `<p class="bad">${esc(e.message)}</p>`; }
}

// A key file opened here: only its public key leaves this function.
async function findWithKeyFile(file) {
  const text = await file.text();
  const wasm = await mainWasm;
  let publicKey = null;
  const kind = wasm.keyTextKind(text);
  try {
    if (kind === "secret") { const w = wasm.Wallet.fromKeyFile(text); publicKey = w.publicKey(); w.free(); }
    else if (kind === "locked") publicKey = JSON.parse(text).public_key;
  } catch (e) { /* reported below */ }
  $("find-keyfile").value = "";
  if (!publicKey) { $("found").innerHTML = `<p class="bad">${esc(t("notAKeyFile"))}</p>`; return; }
  $("find").value = publicKey;
  await findActs(publicKey);
}
