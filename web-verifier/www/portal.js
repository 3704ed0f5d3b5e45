// dauys citizens' portal: petitions, the voter's key on this device, and the
// acts it signs here (file, support, withdraw, vote), each receipt checked
// here and kept here. Runs after app.js, in the same function.
//
// The secret key lives only inside the wasm (a `Wallet` handle) while the
// page is open, and in localStorage only locked under the citizen's
// passphrase (argon2id, then XSalsa20-Poly1305). No request, URL, log or
// other storage entry ever holds it.

const KEY_STORE = "dauys.key";
const ACTS_STORE = "dauys.acts";
let wallet = null; // the unlocked key (a wasm Wallet), or null
let view = "home";
let routeArg = null;
let verifications = 0; // completed verifications: the portal redraws after each
let drawn = ""; // what the current view was last drawn for
const filters = { q: "", status: "", subject: "", district: "" };
const NO_DISTRICT = "\u0000none";

// Lets the browser draw a message before argon2id holds the thread.
const paint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
// The stored locked key, if its public key is well formed (it is shown
// and searched for before any unlocking).
const lockedKey = () => {
  try {
    const locked = JSON.parse(localStorage.getItem(KEY_STORE));
    return locked && /^[0-9a-f]{64}$/.test(locked.public_key) ? locked : null;
  } catch (e) { return null; }
};
const myKey = () => (wallet ? wallet.publicKey() : (lockedKey() || {}).public_key || null);
const storedActs = () => { try { return JSON.parse(localStorage.getItem(ACTS_STORE) || "[]"); } catch (e) { return []; } };
const saveActs = (acts) => localStorage.setItem(ACTS_STORE, JSON.stringify(acts));
const daysLeft = (until, now) => Math.ceil((until - now) / DAY_MS);

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type: type || "text/plain" }));
  const a = document.createElement("a");
  a.href = url; a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- routing ------------------------------------------------------------
// #/ (the ledger), #/petitions, #/petition/<id>, #/file, #/vote[/<id>],
// #/key, #/acts; #receipt opens the ledger view at "Check my receipt".
function route(focus) {
  const hash = location.hash.replace(/^#\/?/, "");
  const [name, arg] = hash.split("/");
  const known = ["petitions", "petition", "file", "vote", "key", "acts"];
  view = known.includes(name) ? name : "home";
  routeArg = arg || null;
  for (const el of document.querySelectorAll("[data-view]")) el.hidden = el.dataset.view !== view;
  for (const a of document.querySelectorAll("#nav a")) {
    const active = a.dataset.route === view || (a.dataset.route === "petitions" && (view === "petition" || view === "file"));
    if (active) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  $("page-title").textContent = t("views." + view);
  drawn = "";
  renderPortal();
  if (focus) { $("main").focus({ preventScroll: true }); window.scrollTo(0, 0); }
}

function renderPortal() {
  // "My key" holds forms a citizen may be filling while the ledger is
  // verified: it is drawn again only when the key or the language changes
  // (its enrolment line follows each verification on its own).
  // "My acts" shows what this device kept, whatever the replay is doing.
  const key = view === "key" ? [view, lang, myKey() || "", wallet ? "u" : ""].join("|")
    : view === "acts" ? [view, lang].join("|")
    : [view, routeArg, lang, verifications, state.running ? "r" : "", myKey() || "", wallet ? "u" : ""].join("|");
  if (view === "key") drawEnrolment();
  // The list and a petition's page follow the replay as it streams; forms
  // are drawn once per verification, so typing is never interrupted.
  if (view === "petitions") renderPetitions();
  else if (view === "petition") renderPetition();
  else if (drawn !== key) {
    drawn = key;
    if (view === "file") renderFile();
    else if (view === "vote") renderVote();
    else if (view === "key") renderKey();
    else if (view === "acts") renderActs();
  }
}

// Says why a view has nothing yet.
function waiting(el) {
  if (shown()) return false;
  el.innerHTML = `<p class="meta">${esc(state.running ? t("running") : state.failure || state.error ? t("invalidShort") : t("notVerifiedYet"))}</p>`;
  return true;
}

// ---- petitions -------------------------------------------------------------
// Fills a filter's options, only when they changed (a menu a citizen has
// open is not closed by the replay's progress).
const optionsShown = new WeakMap();
function selectOptions(el, options, current) {
  const html = options.map(([value, label]) => `<option value="${esc(value)}"${value === current ? " selected" : ""}>${esc(label)}</option>`).join("");
  if (optionsShown.get(el) !== html) { el.innerHTML = html; optionsShown.set(el, html); }
}

function renderPetitions() {
  const list = $("petitions");
  if (waiting(list)) { $("petition-count").textContent = ""; return; }
  const s = shown();
  const statuses = ["collecting", "awaiting_ruling", "ruling_overdue", "accepted", "rejected", "in_referendum", "declared_approved", "declared_not_approved", "lapsed", "withdrawn"];
  selectOptions($("f-status"), [["", t("all")], ...statuses.map((k) => [k, t("status." + k)])], filters.status);
  selectOptions($("f-subject"), [["", t("all")], ...s.rules.subjects.filter((x) => !x.excluded).map((x) => [x.id, subjectName(x.id)])], filters.subject);
  // The district without a name gets a value of its own ("" means all).
  selectOptions($("f-district"), [["", t("all")], ...s.districts.map((d) => [d.name || NO_DISTRICT, d.name || t("none")])], filters.district);
  const q = filters.q.trim().toLocaleLowerCase(lang);
  const now = s.as_of_ms;
  const items = s.petitions.slice().reverse().filter((p) => {
    const st = petitionStatus(p, s).key;
    return (!filters.status || st === filters.status) && (!filters.subject || p.subject === filters.subject)
      && (!filters.district || (p.district || NO_DISTRICT) === filters.district)
      && (!q || (p.title + "\n" + p.text).toLocaleLowerCase(lang).includes(q));
  });
  $("petition-count").textContent = t("petitionCount", { n: items.length });
  list.innerHTML = (state.present ? "" : unverifiedNote()) + (items.length ? items.map((p) => {
    const st = petitionStatus(p, s);
    const left = p.takes_supports ? t("daysLeft", { n: daysLeft(p.signing_deadline_ms, now) }) : "";
    return `<article class="item" data-id="${p.id}"><h3><a href="#/petition/${p.id}">${esc(p.title)}</a></h3>
      <p><span class="badge ${st.cls}">${t("status." + st.key)}</span><span class="meta">${esc(subjectName(p.subject))}${p.district ? " · " + esc(p.district) : ""} · ${esc(t("filedOn", { d: day(p.filed_at_ms) }))}${left ? " · " + left : ""}</span></p>
      ${supportBar(p)}</article>`;
  }).join("") : `<p>${t("noneFound")}</p>`);
}

function supportBar(p) {
  const label = t("supportsOf", { n: p.supports_online + p.supports_paper, k: p.threshold });
  return bar([{ value: p.supports_online, cls: "online" }, { value: p.supports_paper, cls: "paper" }], p.threshold, label) +
    `<p class="meta">${esc(label)} · ${esc(t("onlinePaper", { o: p.supports_online, p: p.supports_paper }))}</p>`;
}

async function renderPetition() {
  const el = $("petition-detail");
  if (waiting(el)) return;
  const s = shown();
  const p = s.petitions.find((x) => x.id === routeArg);
  if (!p) { el.innerHTML = `<h2 id="petition-h">${t("noSuchPetition")}</h2>`; return; }
  const key = ["petition", p.id, lang, verifications, state.present ? "v" : "p", p.supports_online, p.supports_paper, myKey() || "", wallet ? "u" : ""].join("|");
  if (drawn === key) return;
  drawn = key;
  const now = s.as_of_ms;
  const st = petitionStatus(p, s);
  const mine = myKey() === p.initiator;
  const r = p.referendum ? s.referendums.find((x) => x.id === p.referendum) : null;
  const deadline = p.takes_supports
    ? `${day(p.signing_deadline_ms)} · ${esc(t("daysLeft", { n: daysLeft(p.signing_deadline_ms, now) }))}`
    : `${day(p.signing_deadline_ms)} · ${t("signingEnded")}`;
  const ruling = p.ruling
    ? `<dt>${t("council")}</dt><dd><strong>${t(p.ruling.decision)}</strong>, ${day(p.ruling.time_ms)}<br>${esc(p.ruling.reasons)}</dd>`
    : p.ruling_deadline_ms ? `<dt>${t("council")}</dt><dd>${esc(t("rulingDue", { d: day(p.ruling_deadline_ms) }))}</dd>` : "";
  const referendum = r ? `<dt>${t("referendum")}</dt><dd><a href="#referendum-${r.id}" data-ref="${r.id}">${esc(r.question)}</a> — ${t("phase." + r.phase)}${r.declared ? " · " + t(r.declared) : ""}${r.phase === "open" ? ` · <a href="#/vote/${r.id}">${t("voteHere")}</a>` : ""}</dd>` : "";
  el.innerHTML = `${state.present ? "" : unverifiedNote()}<h2 id="petition-h">${esc(p.title)}</h2>
    <p><span class="badge ${st.cls}">${t("status." + st.key)}</span> <span class="meta">${esc(t("asOfShort", { d: date(now) }))}</span></p>
    <div class="petition-text">${esc(p.text)}</div>
    ${supportBar(p)}
    <dl class="facts">
      <dt>${t("subject")}</dt><dd>${esc(subjectName(p.subject))}</dd>
      <dt>${t("initiator")}</dt><dd><code class="mono">${p.initiator}</code>${mine ? ` <strong>(${t("you")})</strong>` : ""}${p.district ? "<br>" + t("district") + ": " + esc(p.district) : ""}</dd>
      <dt>${t("filed")}</dt><dd>${date(p.filed_at_ms)} · ${esc(t("entryNo", { n: p.position }))}</dd>
      <dt>${t("deadline")}</dt><dd>${deadline}</dd>
      <dt>${t("thresholdWord")}</dt><dd>${esc(t("thresholdTriggers", { n: p.threshold, k: p.threshold, d: Math.round(s.rules.council_response_period_ms / DAY_MS) }))}</dd>
      ${ruling}${referendum}
    </dl>
    <h3>${t("supportsOverTime")}</h3><div id="supports-chart" class="chart"></div>
    <div id="petition-actions" class="actions"></div>
    <div id="act-result" aria-live="polite"></div>`;
  redrawResult();
  if (state.present) {
    drawSupportsChart(p).catch(() => {});
    drawPetitionActions(p, mine).catch(() => {});
  }
}

async function drawSupportsChart(p) {
  const byDay = await ask("supportsByDay", p.id);
  const days = Object.keys(byDay).map(Number).sort((a, b) => a - b);
  const chart = $("supports-chart");
  if (!chart || view !== "petition" || routeArg !== p.id) return;
  if (!days.length) { chart.innerHTML = `<p class="meta">${t("noSupportsYet")}</p>`; return; }
  let total = 0;
  const points = days.map((d) => { total += byDay[d]; return { d, total }; });
  chart.innerHTML = `<table class="plain"><caption class="sr-only">${t("supportsOverTime")}</caption><thead><tr><th scope="col">${t("dayWord")}</th><th scope="col">${t("newSupports")}</th><th scope="col">${t("totalWord")}</th></tr></thead><tbody>` +
    points.map((x) => `<tr><th scope="row">${dayUtc(x.d * DAY_MS)}</th><td class="num">+${num(byDay[x.d])}</td><td class="num"><span class="mini" aria-hidden="true"><span style="width:${Math.min(100, (x.total / Math.max(p.threshold, total)) * 100)}%"></span></span>${num(x.total)}</td></tr>`).join("") +
    "</tbody></table>";
}

async function drawPetitionActions(p, mine) {
  const box = $("petition-actions");
  if (!box) return;
  const key = myKey();
  const open = p.takes_supports;
  const withdrawable = mine && ["collecting", "awaiting_ruling", "ruling_overdue"].includes(p.status);
  let supported = false;
  if (key) supported = (await ask("find", key)).some((a) => a.kind === "petition_supported" && a.target === p.id);
  let html = "";
  if (open && !mine) {
    html += supported ? `<p class="ok">✓ ${t("youSupported")}</p>`
      : `<button type="button" id="support-btn">${t("supportBtn")}</button> <span class="meta">${t("supportExplain")}</span>`;
  }
  if (withdrawable) {
    html += `<details class="withdraw"><summary>${t("withdrawTitle")}</summary>
      <div class="row"><label for="withdraw-reasons">${t("withdrawReasons")}</label><input id="withdraw-reasons" type="text" maxlength="500"></div>
      <button type="button" id="withdraw-btn" class="danger">${t("withdrawBtn")}</button> <span class="meta">${t("withdrawExplain")}</span></details>`;
  }
  if (!key && open) html += `<p class="meta">${t("needKey")} <a href="#/key">${t("navKey")}</a></p>`;
  box.innerHTML = html;
  if ($("support-btn")) $("support-btn").addEventListener("click", () => submitAct({ act: "support", petition: p.id }, $("act-result"), p.title));
  if ($("withdraw-btn")) $("withdraw-btn").addEventListener("click", () => {
    if (!confirm(t("withdrawConfirm"))) return;
    submitAct({ act: "withdraw", petition: p.id, reasons: $("withdraw-reasons").value }, $("act-result"), p.title);
  });
}

// ---- acting: sign on this device, send, check the receipt --------------
// What became of the last act on each page (keyed by the page's hash): its
// state and lines, each drawn in the reader's current language, so a result
// survives a language switch or a redraw.
const results = {};
function startResult(box) {
  const r = { box: box.id, page: location.hash, state: "sending", code: "", lines: [] };
  results[r.page] = r;
  return r;
}
function sayIn(r, cls, html, id) {
  r.lines.push({ cls, html, id });
  drawResult(r);
}
function drawResult(r) {
  if (!r || location.hash !== r.page) return;
  const box = $(r.box);
  if (!box) return;
  box.dataset.state = r.state;
  if (r.code) box.dataset.code = r.code; else delete box.dataset.code;
  if (r.counted !== undefined) box.dataset.counted = String(r.counted);
  box.innerHTML = r.lines.map((l) => `<p class="${l.cls}"${l.id ? ` id="${l.id}"` : ""}>${l.html()}</p>`).join("");
}
const redrawResult = () => drawResult(results[location.hash]);
// Resolves with the unlocked wallet, asking for the passphrase in `box` if
// the key is locked; null if there is no key on this device.
function unlocked(box) {
  if (wallet) return Promise.resolve(wallet);
  const locked = lockedKey();
  if (!locked) {
    box.innerHTML = `<p class="bad">${t("needKey")} <a href="#/key">${t("navKey")}</a></p>`;
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    box.innerHTML = `<form class="unlock" id="inline-unlock"><p>${t("unlockToSign")}</p><div class="row"><label for="inline-pass">${t("passphrase")}</label>
      <input id="inline-pass" type="password" autocomplete="current-password" required></div>
      <button type="submit">${t("unlockBtn")}</button><p class="bad" id="inline-unlock-error" role="alert"></p></form>`;
    $("inline-pass").focus();
    $("inline-unlock").addEventListener("submit", async (e) => {
      e.preventDefault();
      const ok = await unlock($("inline-pass").value, $("inline-unlock-error"));
      if (ok) { box.innerHTML = ""; resolve(wallet); }
    });
  });
}

async function unlock(passphrase, errorBox) {
  const wasm = await mainWasm;
  errorBox.textContent = t("unlocking");
  await paint();
  try {
    wallet = wasm.Wallet.unlock(localStorage.getItem(KEY_STORE), passphrase);
    errorBox.textContent = "";
    return true;
  } catch (e) {
    errorBox.textContent = t("unlockFailed");
    return false;
  }
}

// A refusal in the citizen's words: the rule, with the node's details.
function refusalText(body) {
  const d = body.details || {};
  const vars = { term: d.term || "", subject: subjectName(d.subject || ""), status: t("status." + (d.status || ""), null, d.status || "") };
  const text = t("refusals." + body.code, vars, "");
  return text || t("refusedOther", { m: body.message || body.code || "" });
}

// The nonce of a new act (format 2 and later; the page acts only on logs
// with checkpoints): microseconds since the epoch, past the key's last one
// as the page's own replay knows it.
function nonceFor(last) {
  let n = BigInt(Date.now()) * 1000n;
  if (last !== null && last !== undefined && BigInt(last) >= n) n = BigInt(last) + 1n;
  return n.toString();
}

async function submitAct(act, box, about) {
  delete results[location.hash];
  box.innerHTML = "";
  // Acts only go to a log this page verified, whose checkpoint checked out
  // under the log key from genesis: otherwise no receipt could be checked.
  const checkedLog = () => state.summary && state.base && state.logKey && state.checkpoint && state.checkpoint.ok;
  const refuseHere = (r) => {
    r.state = "error";
    r.lines = [];
    sayIn(r, "bad", () => esc(t(state.summary && state.base ? "noReceiptsHere" : "noNodeToSend")));
    return null;
  };
  if (!checkedLog()) return refuseHere(startResult(box));
  const w = await unlocked(box);
  if (!w) return null;
  const r = startResult(box);
  sayIn(r, "", () => esc(t("signing")));
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      // Again now: a verification may have ended while the passphrase was typed.
      if (!checkedLog()) return refuseHere(r);
      const s = state.summary;
      // The key's last nonce, from this page's own replay only.
      const citizen = await ask("citizen", w.publicKey());
      r.lines = [];
      if (!citizen.enrolled) { r.state = "refused"; r.code = "not_enrolled"; sayIn(r, "bad", () => esc(t("notEnrolledYet"))); return null; }
      const keys = act.act === "ballot" ? await ask("ballotKeys") : "";
      const body = w.sign(s.ledger_id, s.format, nonceFor(citizen.last_nonce), JSON.stringify(act), keys);
      const base = state.base;
      const response = await fetch(base + "/v1/events", { method: "POST", headers: { "content-type": "application/json" }, body });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 201) return await receipted(answer, JSON.parse(body), act, about, r);
      if (answer.code === "stale_nonce" && attempt === 0) {
        // Another act by this key got in first: replay the log again and
        // take the nonce from there, never from the node's word.
        await verify();
        if (!state.summary) break;
        continue;
      }
      r.state = "refused";
      r.code = String(answer.code || response.status);
      sayIn(r, "bad", () => `<strong>${esc(t("refused"))}</strong> ${esc(refusalText(answer))}`);
      return null;
    }
    r.state = "error";
    sayIn(r, "bad", () => esc(t("sendFailed", { m: t("refusals.stale_nonce") })));
  } catch (e) {
    r.state = "error";
    r.lines = [];
    sayIn(r, "bad", () => esc(t("sendFailed", { m: e.message || String(e) })));
  }
  return null;
}

// The node accepted the act: check its receipt here (the log key from
// genesis signed a checkpoint that includes exactly this act), keep it,
// offer it as a file, and re-verify the ledger.
async function receipted(answer, submission, act, about, r) {
  const wasm = await mainWasm;
  const s = state.summary;
  r.lines = [];
  // The node's answer is not trusted: only a receipt that verifies under
  // the log key from genesis, at the position answered, carrying exactly
  // the act signed here, is kept. Everything recorded comes from it.
  const report = typeof answer.proof === "string" ? JSON.parse(wasm.checkReceipt(answer.proof, state.logKey, "", 0)) : { ok: false, problem: t("receiptMissing") };
  const same = report.ok && report.index === answer.position && report.author === submission.author && report.payload === submission.payload;
  if (!same) {
    r.state = "bad-receipt";
    sayIn(r, "bad", () => esc(t("receiptBad", { p: report.problem || t("receiptNotThisAct") })));
    return null;
  }
  const target = act.act === "file" ? report.entry_hash : act.petition || act.referendum || null;
  const record = { ledger_id: s.ledger_id, base: state.base, log_key: state.logKey, index: report.index, entry_hash: report.entry_hash, kind: report.kind,
    act: act.act, target, about: about || "", time_ms: report.time_ms, author: submission.author, payload: submission.payload,
    proof: answer.proof, state: "ok", checked_size: report.size };
  r.state = "done";
  sayIn(r, "ok", () => "✓ " + esc(t("actDone", { i: report.index, n: report.size })));
  // Kept before anything else can fail: the act is recorded.
  const acts = storedActs();
  acts.push(record);
  saveActs(acts);
  const saved = acts.length - 1;
  // With witnesses required, ask whether they cosigned a checkpoint that
  // holds it (the node answers before they do).
  if (trust().quorum > 0) {
    let again;
    try {
      const { latest, prefix } = await latestCheckpoint(state.base);
      again = latest ? await stillThere(answer.proof, state.logKey, latest, prefix) : { state: "unchecked" };
    } catch (e) { again = { state: "unchecked" }; }
    updateAct(record.entry_hash, { state: again.state });
    r.witnessed = again.state;
    if (again.state !== "ok") sayIn(r, again.state === "vanished" ? "bad" : "", () => esc(t("witness." + again.state)));
  }
  if (act.act === "file") sayIn(r, "", () => `<a href="#/petition/${record.entry_hash}">${esc(about)}</a>`);
  sayIn(r, "", () => `<button type="button" class="secondary" data-save="${saved}">${t("saveReceipt")}</button> <a href="#/acts">${t("navActs")}</a>`);
  // The new state: verify again (the page trusts its own replay, not the node).
  verify().then(() => afterAct(act, record.index, r));
  return record;
}

async function afterAct(act, position, r) {
  if (!state.present || act.act !== "ballot") return;
  const mine = await ask("find", myKey());
  const ballot = mine.find((a) => a.position === position);
  if (!ballot) return;
  r.counted = ballot.counts;
  sayIn(r, ballot.counts ? "ok" : "bad", () => (ballot.counts ? "✓ " + esc(t("ballotCounted", { i: position })) : esc(t("supersededAct"))), "ballot-counted");
}

// Changes the kept act with entry hash `hash` (acts kept meanwhile stay).
function updateAct(hash, changes) {
  const acts = storedActs();
  const act = acts.find((a) => a.entry_hash === hash);
  if (act) { Object.assign(act, changes); saveActs(acts); }
}

// ---- file a petition ---------------------------------------------------------
let screenTimer = null;

function renderFile() {
  const panel = $("file-panel");
  if (waiting(panel)) return;
  const s = state.summary ? state.present : null;
  if (!s) { panel.innerHTML = `<p class="meta">${t("running")}</p>`; return; }
  const old = { subject: $("file-subject") && $("file-subject").value, title: $("file-title") && $("file-title").value, text: $("file-text") && $("file-text").value };
  const subjects = s.rules.subjects;
  const excluded = subjects.filter((x) => x.excluded);
  panel.innerHTML = `<p class="meta">${esc(t("fileIntro", { n: s.threshold_now, d: Math.round(s.rules.signing_period_ms / DAY_MS) }))}</p>
    <form id="file-form">
      <div class="field"><label for="file-subject">${t("subject")}</label>
        <select id="file-subject" required aria-describedby="excluded-note">${subjects.map((x) => `<option value="${esc(x.id)}"${x.excluded ? " disabled" : ""}>${esc(subjectName(x.id))}${x.excluded ? " — " + t("excludedWord") : ""}</option>`).join("")}</select></div>
      <div id="excluded-note" class="note">${excluded.length ? `<p>${t("excludedRule")}</p><ul>${excluded.map((x) => `<li><strong>${esc(subjectName(x.id))}</strong>: ${t("screenedTerms")} ${x.terms.map((term) => `<q>${esc(term)}</q>`).join(", ")}</li>`).join("")}</ul>` : ""}</div>
      <div class="field"><label for="file-title">${t("titleWord")}</label><input id="file-title" type="text" required maxlength="200" aria-describedby="screen-result"></div>
      <div class="field"><label for="file-text">${t("textWord")}</label><textarea id="file-text" rows="7" required maxlength="10000" aria-describedby="screen-result"></textarea></div>
      <div id="screen-result" aria-live="polite"></div>
      <button type="submit" id="file-send">${t("signAndSend")}</button>
    </form>
    <div id="file-result" aria-live="polite"></div>`;
  if (old.subject && subjects.some((x) => x.id === old.subject && !x.excluded)) $("file-subject").value = old.subject;
  if (old.title) $("file-title").value = old.title;
  if (old.text) $("file-text").value = old.text;
  const precheck = () => { clearTimeout(screenTimer); screenTimer = setTimeout(screenDraft, 250); };
  $("file-title").addEventListener("input", precheck);
  $("file-text").addEventListener("input", precheck);
  $("file-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const act = { act: "file", subject: $("file-subject").value, title: $("file-title").value, text: $("file-text").value };
    submitAct(act, $("file-result"), act.title);
  });
  redrawResult();
  screenDraft();
}

// The published screen, run here by the rule core on the draft.
async function screenDraft() {
  const out = $("screen-result");
  if (!out) return;
  const title = $("file-title").value, text = $("file-text").value;
  if (!title && !text) { out.innerHTML = ""; out.dataset.state = "empty"; $("file-send").textContent = t("signAndSend"); return; }
  const found = await ask("screen", title, text).catch(() => null);
  if (found) {
    out.dataset.state = "flagged";
    out.innerHTML = `<p class="bad" role="alert">${esc(t("screenFlag", { term: found.term, subject: subjectName(found.subject) }))}</p>`;
    $("file-send").textContent = t("sendAnyway");
  } else {
    out.dataset.state = "clear";
    out.innerHTML = `<p class="ok">✓ ${esc(t("screenClear"))}</p>`;
    $("file-send").textContent = t("signAndSend");
  }
}

// ---- vote ------------------------------------------------------------------------
async function renderVote() {
  const panel = $("vote-panel");
  if (waiting(panel)) return;
  const drawnFor = drawn;
  const s = state.present;
  if (!s) { panel.innerHTML = `<p class="meta">${t("running")}</p>`; return; }
  const r = routeArg ? s.referendums.find((x) => x.id === routeArg) : null;
  if (!r) {
    const open = s.referendums.filter((x) => x.phase === "open");
    panel.innerHTML = open.length ? `<p>${t("openReferendums")}</p><ul>${open.map((x) => `<li><a href="#/vote/${x.id}">${esc(x.question)}</a> — ${esc(t("closesOn", { d: date(x.closes_at_ms) }))}</li>`).join("")}</ul>`
      : `<p>${t("noOpenReferendum")}</p>`;
    return;
  }
  const petition = s.petitions.find((p) => p.id === r.petition);
  const secret = !!r.secret;
  let eligibility = "";
  const key = myKey();
  if (key) {
    const citizen = await ask("citizen", key).catch(() => null);
    if (citizen && !citizen.enrolled) eligibility = `<p class="bad">${t("notEnrolledYet")}</p>`;
    else if (citizen && s.format >= 2 && citizen.enrolled_at >= r.position) eligibility = `<p class="bad">${t("notInElectorate")}</p>`;
    const mine = (await ask("find", key).catch(() => [])).filter((a) => a.kind === "ballot_cast" && a.target === r.id);
    if (mine.length) eligibility += `<p class="ok">✓ ${esc(t("alreadyVoted", { i: mine[mine.length - 1].position }))}</p>`;
  } else eligibility = `<p class="meta">${t("needKey")} <a href="#/key">${t("navKey")}</a></p>`;
  // Drawn again meanwhile (another referendum, a new verification): that one stands.
  if (drawn !== drawnFor) return;
  panel.innerHTML = `<h3>${esc(r.question)}</h3>
    <p><span class="badge">${t("phase." + r.phase)}</span> <span class="meta">${date(r.opens_at_ms)} – ${date(r.closes_at_ms)}</span></p>
    ${petition ? `<p class="meta">${t("onPetition")}: <a href="#/petition/${petition.id}">${esc(petition.title)}</a></p>` : ""}
    <div class="note">${secret ? `<p>${esc(t("secretWhat", { k: r.secret.threshold, n: r.secret.trustees.length }))}</p><p>${t("secretNot")}</p><p>${t("revoteExplain")}</p>` : `<p>${t("openBallot")}</p>`}</div>
    ${eligibility}
    ${r.phase === "open" && secret && r.secret.ceremony !== "complete" ? `<p class="bad">${esc(t("ceremonyNotComplete"))}</p>` : ""}
    ${r.phase === "open" && (!secret || r.secret.ceremony === "complete") ? `<form id="vote-form"><fieldset class="choices"><legend>${esc(r.question)}</legend>
      ${r.options.map((o, i) => `<label class="choice"><input type="radio" name="choice" value="${i}" required> ${esc(optionName(o))}</label>`).join("")}</fieldset>
      <button type="submit">${secret ? t("encryptAndSend") : t("signAndSend")}</button></form>` : `<p>${t("votingNotOpen")}</p>`}
    <div id="vote-result" aria-live="polite"></div>`;
  if ($("vote-form")) $("vote-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const choice = Number(document.querySelector("input[name=choice]:checked").value);
    submitAct({ act: "ballot", referendum: r.id, choice }, $("vote-result"), r.question);
  });
  redrawResult();
}

// ---- my key ------------------------------------------------------------------------
async function renderKey() {
  const panel = $("key-panel");
  const locked = lockedKey();
  const lossNote = `<div class="note"><p>${t("keyNever")}</p><p>${t("keyLoss")}</p></div>`;
  if (!locked) {
    panel.innerHTML = `<p>${t("keyIntro")}</p>${lossNote}
      <form id="create-form" class="card-inner"><h3>${t("createTitle")}</h3>
        <div class="field"><label for="new-pass">${t("passphrase")}</label><input id="new-pass" type="password" autocomplete="new-password" minlength="8" required aria-describedby="pass-hint"></div>
        <div class="field"><label for="new-pass2">${t("passphraseAgain")}</label><input id="new-pass2" type="password" autocomplete="new-password" minlength="8" required></div>
        <p id="pass-hint" class="meta">${t("passphraseHint")}</p>
        <button type="submit">${t("createBtn")}</button></form>
      <form id="restore-form" class="card-inner"><h3>${t("restoreTitle")}</h3>
        <p class="meta">${t("restoreIntro")}</p>
        <div class="field"><label for="restore-file">${t("backupFile")}</label><input id="restore-file" type="file" accept=".json,.key,.txt,application/json,text/plain" required></div>
        <div class="field"><label for="restore-pass">${t("passphrase")}</label><input id="restore-pass" type="password" autocomplete="current-password" minlength="8" required aria-describedby="restore-hint"></div>
        <p id="restore-hint" class="meta">${t("restoreHint")}</p>
        <button type="submit">${t("restoreBtn")}</button></form>
      <p id="key-message" role="alert"></p>`;
    $("create-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const pass = $("new-pass").value;
      if (pass !== $("new-pass2").value) { $("key-message").textContent = t("passMismatch"); return; }
      $("key-message").textContent = t("creating");
      const wasm = await mainWasm;
      try {
        await paint();
        const created = wasm.Wallet.create();
        const lockedText = created.lock(pass);
        localStorage.setItem(KEY_STORE, lockedText);
        wallet = created;
        drawn = "";
        renderKey();
        $("key-message").textContent = t("createdBackup");
      } catch (err) { $("key-message").textContent = err.message; }
    });
    $("restore-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const file = $("restore-file").files[0];
      const pass = $("restore-pass").value;
      const text = await file.text();
      $("restore-file").value = "";
      const wasm = await mainWasm;
      $("key-message").textContent = t("unlocking");
      try {
        const kind = wasm.keyTextKind(text);
        let restored;
        // Locked again here: fresh salt and nonce, the current parameters.
        await paint();
        if (kind === "locked") { restored = wasm.Wallet.unlock(text, pass); localStorage.setItem(KEY_STORE, restored.lock(pass)); }
        else if (kind === "secret") { restored = wasm.Wallet.fromKeyFile(text); localStorage.setItem(KEY_STORE, restored.lock(pass)); }
        else throw new Error(t("notAKeyFile"));
        wallet = restored;
        drawn = "";
        renderKey();
        $("key-message").textContent = t("restored");
      } catch (err) { $("key-message").textContent = err.message === t("notAKeyFile") ? err.message : t("unlockFailed"); }
    });
    return;
  }
  const wasm = await mainWasm;
  const pk = locked.public_key;
  panel.innerHTML = `<h3>${t("yourPublicKey")}</h3>
    <p><code id="public-key" class="mono">${pk}</code></p>
    <p><button type="button" class="secondary" id="copy-key">${t("copy")}</button></p>
    <figure class="qr"><div id="qr" role="img" aria-label="${esc(t("qrLabel"))}">${wasm.qrSvg(pk)}</div><figcaption class="meta">${t("qrCaption")}</figcaption></figure>
    <div id="enrolment-line" aria-live="polite"></div>
    <p id="lock-state" data-unlocked="${!!wallet}">${wallet ? "🔓 " + t("unlockedNote") : "🔒 " + t("lockedNote")}</p>
    ${wallet ? `<button type="button" class="secondary" id="lock-btn">${t("lockBtn")}</button>` : `<form id="unlock-form"><div class="row"><label for="unlock-pass">${t("passphrase")}</label><input id="unlock-pass" type="password" autocomplete="current-password" required></div><button type="submit">${t("unlockBtn")}</button></form>`}
    <p id="key-message" role="alert"></p>
    <h3>${t("backupTitle")}</h3><p class="meta">${t("backupIntro")}</p>
    <p><button type="button" id="backup-btn">${t("backupBtn")}</button></p>
    ${lossNote}
    <details class="danger-zone"><summary>${t("removeTitle")}</summary><p>${t("removeExplain")}</p><button type="button" class="danger" id="remove-btn">${t("removeBtn")}</button></details>`;
  enrolmentDrawn = "";
  drawEnrolment();
  $("copy-key").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(pk));
  $("backup-btn").addEventListener("click", () => download(`dauys-key-${pk.slice(0, 8)}.json`, localStorage.getItem(KEY_STORE), "application/json"));
  if ($("lock-btn")) $("lock-btn").addEventListener("click", () => { wallet.free(); wallet = null; drawn = ""; renderKey(); });
  if ($("unlock-form")) $("unlock-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (await unlock($("unlock-pass").value, $("key-message"))) { drawn = ""; renderKey(); }
  });
  $("remove-btn").addEventListener("click", () => {
    if (!confirm(t("removeConfirm"))) return;
    localStorage.removeItem(KEY_STORE);
    if (wallet) { wallet.free(); wallet = null; }
    drawn = ""; renderKey();
  });
}

// Whether the key on this device is enrolled, by the latest replay.
let enrolmentDrawn = "";
async function drawEnrolment() {
  const line = $("enrolment-line");
  const locked = lockedKey();
  if (!line || !locked) return;
  const drawnFor = [locked.public_key, verifications, lang, state.present ? "v" : ""].join("|");
  if (enrolmentDrawn === drawnFor && line.childElementCount) return;
  enrolmentDrawn = drawnFor;
  if (!state.present) { line.innerHTML = ""; return; }
  const citizen = await ask("citizen", locked.public_key).catch(() => null);
  if (!citizen || !$("enrolment-line")) return;
  $("enrolment-line").innerHTML = citizen.enrolled
    ? `<p class="ok" id="enrolment" data-enrolled="true">✓ ${esc(t("enrolledIn", { d: citizen.district || t("none") }))}</p>`
    : `<p class="bad" id="enrolment" data-enrolled="false">${esc(t("notEnrolledShow"))}</p>`;
}

// ---- my acts -------------------------------------------------------------------------
function renderActs() {
  const panel = $("acts-panel");
  const acts = storedActs();
  const stateText = { ok: "✓ " + t("actOk"), pending: "… " + t("actPending"), vanished: "✗ " + t("actVanished"), bad: "✗ " + t("actBad"), unchecked: t("actUnchecked") };
  panel.innerHTML = `<p class="meta">${t("actsIntro")}</p>` + (acts.length ? `<p><button type="button" id="recheck-btn">${t("recheckBtn")}</button></p>
    <ul class="acts">${acts.map((a, i) => `<li data-state="${esc(a.state)}" data-index="${esc(a.index)}"><strong>${esc(t("acts." + a.act, null, a.act))}</strong>: ${a.target && a.act !== "ballot" && /^[0-9a-f]{64}$/.test(a.target) ? `<a href="#/petition/${a.target}">${esc(a.about)}</a>` : esc(a.about)}
      <br><span class="meta">${esc(t("entryNo", { n: Number(a.index) }))} · ${esc(date(Number(a.time_ms)))}${a.checked_size ? " · " + esc(t("checkedAt", { n: Number(a.checked_size) })) : ""}</span>
      <br><span class="act-state ${a.state === "ok" ? "ok" : a.state === "vanished" || a.state === "bad" ? "bad" : ""}">${esc(stateText[a.state] || a.state)}</span>
      ${a.proof ? ` <button type="button" class="secondary" data-save="${i}">${t("saveReceipt")}</button>` : ""}</li>`).join("")}</ul>` : `<p>${t("noActsYet")}</p>`) +
    `<p id="recheck-result" aria-live="polite"${recheckDone ? ' data-done="true"' : ""}>${recheckDone ? esc(recheckDone()) : ""}</p>`;
  if ($("recheck-btn")) $("recheck-btn").addEventListener("click", recheckActs);
}

// The last re-check's summary, drawn in the reader's language.
let recheckDone = null;

// Every kept receipt against the log's latest checkpoint: still there
// (consistent), not yet witnessed, or vanished (the log was rewritten).
async function recheckActs() {
  recheckDone = null;
  const out = $("recheck-result");
  delete out.dataset.done;
  out.textContent = t("rcChecking");
  const wasm = await mainWasm;
  const acts = storedActs();
  const bases = {};
  const counts = { ok: 0, pending: 0, unchecked: 0, vanished: 0, bad: 0 };
  for (const a of acts) {
    if (!a.proof || !a.log_key) { a.state = "bad"; counts.bad++; continue; }
    // The kept receipt itself, again: the log key kept with it (never one
    // read from the node now), the same author, payload and position.
    const report = JSON.parse(wasm.checkReceipt(a.proof, a.log_key, "", 0));
    if (!report.ok || report.index !== a.index || report.author !== a.author || report.payload !== a.payload) { a.state = "bad"; counts.bad++; continue; }
    const base = a.base || currentBase();
    try {
      bases[base] = bases[base] || await latestCheckpoint(base);
      const { latest, prefix } = bases[base];
      if (!latest) { a.state = "unchecked"; counts.unchecked++; continue; }
      const result = await stillThere(a.proof, a.log_key, latest, prefix);
      a.state = result.state;
      if (result.step.latest_size) a.checked_size = result.step.latest_size;
      counts[result.state]++;
    } catch (e) { a.state = "unchecked"; counts.unchecked++; }
  }
  // Written back act by act: acts kept while this ran are not lost.
  for (const a of acts) updateAct(a.entry_hash, { state: a.state, checked_size: a.checked_size });
  recheckDone = () => [counts.vanished ? t("recheckBad", { n: counts.vanished }) : "",
    counts.bad ? t("recheckBadReceipts", { n: counts.bad }) : "",
    t("recheckSummary", { ok: counts.ok, pending: counts.pending, unchecked: counts.unchecked })].filter(Boolean).join(" ");
  renderActs();
}

// ---- wiring and start ------------------------------------------------------------------
onVerified.push(() => { verifications++; renderPortal(); });
for (const radio of document.querySelectorAll("input[name=source]")) radio.addEventListener("change", () => {
  const choice = document.querySelector("input[name=source]:checked").value;
  $("url-row").hidden = choice !== "url";
  $("file-row").hidden = choice !== "file";
});
$("source-form").addEventListener("submit", (e) => { e.preventDefault(); verify(); });
$("receipt-form").addEventListener("submit", (e) => { e.preventDefault(); checkReceipt(); });
for (const [id, key] of [["witnesses", "dauys.witnesses"], ["quorum", "dauys.quorum"]]) {
  if (localStorage.getItem(key) !== null) $(id).value = localStorage.getItem(key);
  $(id).addEventListener("change", () => localStorage.setItem(key, $(id).value));
}
$("find-form").addEventListener("submit", (e) => { e.preventDefault(); findActs($("find").value.trim()); });
$("find-keyfile").addEventListener("change", () => { const f = $("find-keyfile").files[0]; if (f) findWithKeyFile(f); });
$("filters").addEventListener("input", () => {
  filters.q = $("q").value; filters.status = $("f-status").value; filters.subject = $("f-subject").value; filters.district = $("f-district").value;
  renderPetitions();
});
$("filters").addEventListener("submit", (e) => e.preventDefault());
$("lang").addEventListener("change", () => { lang = $("lang").value; localStorage.setItem("dauys.lang", lang); applyLanguage(); route(false); });
window.addEventListener("hashchange", () => {
  if (location.hash === "#receipt") { route(false); $("receipt-h").scrollIntoView(); return; }
  if (location.hash.startsWith("#referendum-")) return; // an anchor within the ledger view
  route(true);
});
document.addEventListener("click", (e) => {
  // "Save receipt": the kept act's receipt as a .tlog-proof file.
  const save = e.target.closest && e.target.closest("button[data-save]");
  if (save) {
    const a = storedActs()[Number(save.dataset.save)];
    if (a && a.proof) download(`dauys-${a.index}.tlog-proof`, a.proof);
    return;
  }
  // A referendum named on a petition's page: open the ledger view at it.
  const a = e.target.closest && e.target.closest("a[data-ref]");
  if (!a) return;
  e.preventDefault();
  location.hash = "#/";
  setTimeout(() => { const el = $("referendum-" + a.dataset.ref); if (el) el.scrollIntoView(); }, 0);
});

// The benchmark's limit: raw signature checks per second with `workers`
// signature workers busy at once on `batch` (whole export lines), no rules.
// With `keys` (a secret ledger's election keys), each worker also checks
// every secret ballot's proofs: the limit for a ledger of ballots.
async function rawRate(batch, workers, millis, keys) {
  const module = await modulePromise;
  const pool = await Promise.all(Array.from({ length: workers }, () => spawn("signatures", module)));
  const lines = batch.split("\n").filter((l) => l).length;
  const bytes = new TextEncoder().encode(batch);
  const started = performance.now();
  let checked = 0;
  await Promise.all(pool.map((w) => new Promise((resolve) => {
    const again = () => {
      if (performance.now() - started > millis) return resolve();
      w.postMessage({ type: "sign", id: 0, batch: bytes.slice(), keys: keys || null });
    };
    w.onmessage = () => { checked += lines; again(); };
    again();
  })));
  const seconds = (performance.now() - started) / 1000;
  for (const w of pool) w.terminate();
  return checked / seconds;
}
// The benchmark's cost of the device key: milliseconds to lock and to
// unlock a throwaway key (argon2id with the current parameters).
async function keyCost() {
  const wasm = await mainWasm;
  const throwaway = wasm.Wallet.create();
  let started = performance.now();
  const locked = throwaway.lock("benchmark passphrase");
  const lock = performance.now() - started;
  started = performance.now();
  wasm.Wallet.unlock(locked, "benchmark passphrase").free();
  throwaway.free();
  return { lock, unlock: performance.now() - started };
}
window.dauys = { verify, checkReceipt, state: () => state, rawRate, keyCost, workers: () => Math.max(1, Math.min(16, navigator.hardwareConcurrency || 2)) };
applyLanguage();
route(false);
// The page answers input from here on (the benchmark reads this mark).
performance.mark("dauys-interactive");
if (location.protocol === "file:") {
  document.querySelector("input[value=file]").checked = true;
  $("file-row").hidden = false;
} else if (location.hash === "#receipt") {
  // Only a receipt to check: no need to download and verify the log.
  $("receipt-h").scrollIntoView();
  $("receipt-file").focus();
} else {
  verify();
}
