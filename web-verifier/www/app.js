// dauys web verifier: the page. Reads the export (from this node, a mirror
// or a file), cuts it into batches of whole lines, has signature workers on
// every core check the signatures, and feeds batches in order to the
// coordinator worker that runs the rule core. The main thread only moves
// bytes and draws.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const T = {
    en: {
      tagline: "ledger verifier", language: "Language", source: "Source", sourceNode: "This node",
      sourceUrl: "Another node or mirror (URL)", sourceFile: "A file on this device", urlLabel: "Node URL",
      fileLabel: "Export file (JSON Lines)", verify: "Verify", verdictTitle: "Verdict", pending: "Not verified yet",
      intro: "This page checks every entry of the ledger on your own device: every signature, every hash link and every rule the commission published. It trusts nothing the server says.",
      petitions: "Petitions", referendums: "Referendums", districts: "Districts", findTitle: "Find my act",
      findLabel: "Your public key or an entry hash", find: "Find",
      footer: "Format and rules: docs/FORMAT.md. The same rule code runs in the node, the command line and this page.",
      download: "Save this page to verify offline",
      signedHead: "Node's signed head", headOk: "signed by the ledger's log key, and names exactly this log",
      headBad: "the node's signature on its head does not verify", headOther: "valid signature; the node's head names {n} entries, the export had {m}",
      running: "Verifying…", valid: "Valid: all {n} entries check out.", invalid: "Invalid: entry {p} is the first bad one.",
      progress: "{n} entries checked", workers: "{w} workers", entries: "Entries", head: "Head hash", ledger: "Ledger",
      jurisdiction: "Jurisdiction", asOf: "As of", enrolled: "Voters enrolled", reason: "Reason",
      online: "online", paper: "on paper", threshold: "threshold", until: "signing until", council: "Council",
      accept: "accepted", reject: "rejected", noneYet: "None yet.", ballots: "ballots", electorate: "electorate",
      needed: "needed to approve", outcome: "Outcome", approved: "approved", not_approved: "not approved",
      declared: "declared", district: "District", supports: "Supports", none: "(no district)",
      noActs: "No entries found for this key or hash.", position: "entry", counts: "counts", about: "about",
      error: "Could not read the source: {m}", chooseFile: "Choose a file first.", chooseUrl: "Enter a URL first.",
      status: { collecting: "collecting", lapsed: "lapsed", withdrawn: "withdrawn", awaiting_ruling: "awaiting ruling",
        ruling_overdue: "ruling overdue", accepted: "accepted by council", rejected: "rejected by council", in_referendum: "in referendum" },
      phase: { scheduled: "scheduled", open: "voting open", closed: "closed", declared: "declared" },
      reasons: {
        bad_signature: "a signature does not verify: the entry was forged or edited",
        broken_link: "the link to the previous entry is broken: history was edited, dropped or reordered",
        hash_mismatch: "the stated hash is not the hash of the entry", position_mismatch: "entries are missing or out of order",
        truncated_line: "the export was cut short", malformed_line: "a line is not a ledger entry",
        time_went_backwards: "the node's clock went backwards", wrong_ledger: "an act signed for another ledger",
        double_support: "a voter supported the same petition twice", double_ballot: "a voter voted twice",
        not_enrolled: "an act by someone who is not an enrolled voter", excluded_subject: "a petition on an excluded subject",
        screened_text: "screened text without the commission's admission", tally_mismatch: "the declared result differs from the ballots",
        outside_signing_period: "a support after the signing period", ruling_before_threshold: "a ruling before the threshold was reached",
        wrong_role: "an act by the wrong authority", ballot_outside_window: "a ballot outside the voting window", bad_genesis: "the first entry (the rules) is invalid",
      },
    },
    ru: {
      tagline: "проверка реестра", language: "Язык", source: "Источник", sourceNode: "Этот узел",
      sourceUrl: "Другой узел или зеркало (URL)", sourceFile: "Файл на этом устройстве", urlLabel: "Адрес узла",
      fileLabel: "Файл выгрузки (JSON Lines)", verify: "Проверить", verdictTitle: "Результат проверки", pending: "Ещё не проверено",
      intro: "Эта страница проверяет каждую запись реестра на вашем устройстве: каждую подпись, каждую хеш-связь и каждое правило, опубликованное комиссией. Она не доверяет серверу.",
      petitions: "Петиции", referendums: "Референдумы", districts: "Округа", findTitle: "Найти своё действие",
      findLabel: "Ваш открытый ключ или хеш записи", find: "Найти",
      footer: "Формат и правила: docs/FORMAT.md. Один и тот же код правил работает в узле, в командной строке и на этой странице.",
      download: "Сохранить страницу для проверки без сети",
      signedHead: "Подписанная вершина узла", headOk: "подписана ключом журнала реестра и указывает ровно на этот журнал",
      headBad: "подпись узла под вершиной не сходится", headOther: "подпись верна; вершина узла указывает {n} записей, в выгрузке {m}",
      running: "Проверка…", valid: "Верно: все {n} записей прошли проверку.", invalid: "Нарушение: первая неверная запись — {p}.",
      progress: "проверено записей: {n}", workers: "потоков: {w}", entries: "Записей", head: "Хеш вершины", ledger: "Реестр",
      jurisdiction: "Территория", asOf: "По состоянию на", enrolled: "Зарегистрировано избирателей", reason: "Причина",
      online: "онлайн", paper: "на бумаге", threshold: "порог", until: "сбор до", council: "Маслихат",
      accept: "принята", reject: "отклонена", noneYet: "Пока нет.", ballots: "бюллетеней", electorate: "избирателей",
      needed: "нужно для принятия", outcome: "Итог", approved: "принято", not_approved: "не принято",
      declared: "объявлен", district: "Округ", supports: "Подписи", none: "(без округа)",
      noActs: "Записей с этим ключом или хешем не найдено.", position: "запись", counts: "учтено", about: "касается",
      error: "Не удалось прочитать источник: {m}", chooseFile: "Сначала выберите файл.", chooseUrl: "Сначала введите адрес.",
      status: { collecting: "сбор подписей", lapsed: "срок истёк", withdrawn: "отозвана", awaiting_ruling: "ждёт решения",
        ruling_overdue: "решение просрочено", accepted: "принята маслихатом", rejected: "отклонена маслихатом", in_referendum: "на референдуме" },
      phase: { scheduled: "назначен", open: "идёт голосование", closed: "закрыт", declared: "итоги объявлены" },
      reasons: {
        bad_signature: "подпись не сходится: запись подделана или изменена",
        broken_link: "разорвана связь с предыдущей записью: историю изменили, удалили или переставили",
        hash_mismatch: "указанный хеш не совпадает с записью", position_mismatch: "записи пропущены или переставлены",
        truncated_line: "выгрузка обрезана", malformed_line: "строка не является записью реестра",
        time_went_backwards: "время узла пошло назад", wrong_ledger: "действие подписано для другого реестра",
        double_support: "избиратель дважды поддержал одну петицию", double_ballot: "избиратель проголосовал дважды",
        not_enrolled: "действие лица, не внесённого в список", excluded_subject: "петиция по исключённому вопросу",
        screened_text: "текст с запрещённым термином без допуска комиссии", tally_mismatch: "объявленный итог не совпадает с бюллетенями",
        outside_signing_period: "подпись после окончания сбора", ruling_before_threshold: "решение до достижения порога",
        wrong_role: "действие неуполномоченного лица", ballot_outside_window: "бюллетень вне времени голосования", bad_genesis: "первая запись (правила) неверна",
      },
    },
    kk: {
      tagline: "тізілімді тексеру", language: "Тіл", source: "Дереккөз", sourceNode: "Осы түйін",
      sourceUrl: "Басқа түйін немесе айна (URL)", sourceFile: "Осы құрылғыдағы файл", urlLabel: "Түйін мекенжайы",
      fileLabel: "Экспорт файлы (JSON Lines)", verify: "Тексеру", verdictTitle: "Тексеру нәтижесі", pending: "Әлі тексерілген жоқ",
      intro: "Бұл бет тізілімнің әр жазбасын сіздің құрылғыңызда тексереді: әр қолтаңбаны, әр хеш-байланысты және комиссия жариялаған әр ережені. Ол серверге сенбейді.",
      petitions: "Петициялар", referendums: "Референдумдар", districts: "Округтер", findTitle: "Өз әрекетімді табу",
      findLabel: "Ашық кілтіңіз немесе жазба хеші", find: "Табу",
      footer: "Пішім мен ережелер: docs/FORMAT.md. Ереже коды түйінде, командалық жолда және осы бетте бірдей.",
      download: "Желісіз тексеру үшін бетті сақтау",
      signedHead: "Түйіннің қол қойылған шыңы", headOk: "тізілімнің журнал кілтімен қол қойылған және дәл осы журналды көрсетеді",
      headBad: "түйіннің шыңдағы қолтаңбасы сәйкес емес", headOther: "қолтаңба дұрыс; түйін шыңы {n} жазбаны көрсетеді, экспортта {m}",
      running: "Тексерілуде…", valid: "Дұрыс: барлық {n} жазба тексеруден өтті.", invalid: "Бұзушылық: алғашқы қате жазба — {p}.",
      progress: "тексерілген жазба: {n}", workers: "ағын: {w}", entries: "Жазбалар", head: "Соңғы хеш", ledger: "Тізілім",
      jurisdiction: "Аумақ", asOf: "Жағдай бойынша", enrolled: "Тіркелген сайлаушылар", reason: "Себебі",
      online: "онлайн", paper: "қағазда", threshold: "шек", until: "жинау мерзімі", council: "Мәслихат",
      accept: "қабылданды", reject: "қабылданбады", noneYet: "Әзірге жоқ.", ballots: "бюллетень", electorate: "сайлаушы",
      needed: "қабылдауға қажет", outcome: "Нәтиже", approved: "қабылданды", not_approved: "қабылданбады",
      declared: "жарияланды", district: "Округ", supports: "Қолдаулар", none: "(округсіз)",
      noActs: "Бұл кілт немесе хеш бойынша жазба табылмады.", position: "жазба", counts: "есептелді", about: "қатысты",
      error: "Дереккөзді оқу мүмкін болмады: {m}", chooseFile: "Алдымен файлды таңдаңыз.", chooseUrl: "Алдымен мекенжайды енгізіңіз.",
      status: { collecting: "қолдау жиналуда", lapsed: "мерзімі өтті", withdrawn: "кері қайтарылды", awaiting_ruling: "шешім күтуде",
        ruling_overdue: "шешім кешіктірілді", accepted: "мәслихат қабылдады", rejected: "мәслихат қабылдамады", in_referendum: "референдумда" },
      phase: { scheduled: "белгіленді", open: "дауыс беру жүріп жатыр", closed: "жабылды", declared: "нәтиже жарияланды" },
      reasons: {
        bad_signature: "қолтаңба сәйкес емес: жазба жалған немесе өзгертілген",
        broken_link: "алдыңғы жазбамен байланыс үзілген: тарих өзгертілген, жойылған немесе ауыстырылған",
        hash_mismatch: "көрсетілген хеш жазбаға сәйкес емес", position_mismatch: "жазбалар жетіспейді немесе орны ауысқан",
        truncated_line: "экспорт қысқартылған", malformed_line: "жол тізілім жазбасы емес",
        time_went_backwards: "түйін уақыты кері кетті", wrong_ledger: "әрекет басқа тізілімге қол қойылған",
        double_support: "сайлаушы бір петицияны екі рет қолдады", double_ballot: "сайлаушы екі рет дауыс берді",
        not_enrolled: "тізімге енбеген адамның әрекеті", excluded_subject: "алынып тасталған мәселе бойынша петиция",
        screened_text: "комиссия рұқсатынсыз тыйым салынған термин", tally_mismatch: "жарияланған нәтиже бюллетеньдерге сәйкес емес",
        outside_signing_period: "жинау мерзімінен кейінгі қолдау", ruling_before_threshold: "шекке жетпей шешім қабылданды",
        wrong_role: "өкілеттігі жоқ тұлғаның әрекеті", ballot_outside_window: "дауыс беру уақытынан тыс бюллетень", bad_genesis: "алғашқы жазба (ережелер) жарамсыз",
      },
    },
  };
  let lang = (localStorage.getItem("dauys.lang") || (navigator.language || "en").slice(0, 2));
  if (!T[lang]) lang = "en";
  const t = (key, vars) => {
    let s = key.split(".").reduce((o, k) => (o ? o[k] : undefined), T[lang]);
    if (s === undefined) s = key.split(".").reduce((o, k) => (o ? o[k] : undefined), T.en) || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
    return s;
  };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const date = (ms) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";

  let state = { summary: null, failure: null, entries: 0, running: false };

  function applyLanguage() {
    document.documentElement.lang = lang;
    $("lang").value = lang;
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    if (state.entries || state.running) $("progress-text").textContent = t("progress", { n: state.entries.toLocaleString() });
    render();
  }

  // ---- workers --------------------------------------------------------
  const glue = $("glue").textContent;
  const workerSource = $("worker-src").textContent;
  const workerUrl = URL.createObjectURL(new Blob([glue, "\n", workerSource], { type: "text/javascript" }));
  const wasmBytes = Uint8Array.from(atob($("wasm").textContent.trim()), (c) => c.charCodeAt(0));
  const modulePromise = WebAssembly.compile(wasmBytes);

  function spawn(role, module) {
    return new Promise((resolve, reject) => {
      const w = new Worker(workerUrl);
      w.onmessage = (e) => { if (e.data.type === "ready") resolve(w); else reject(new Error(e.data.message)); };
      w.onerror = (e) => reject(new Error(e.message));
      w.postMessage({ type: "init", role, module });
    });
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
    // The export is streamed without a length; the head gives the entry count
    // for the progress bar (only a hint: the verdict never relies on it).
    let entries = 0, headJson = null;
    try {
      headJson = await (await fetch(base + "/v1/head", { cache: "no-store" })).text();
      entries = JSON.parse(headJson).size || 0;
    } catch (e) { headJson = null; }
    const response = await fetch(base + "/v1/export", { cache: "no-store" });
    if (!response.ok) throw new Error(response.status + " " + response.statusText);
    return { stream: response.body, total: Number(response.headers.get("content-length")) || 0, entries, headJson };
  }

  async function verify() {
    if (state.running) return;
    if (state.coordinator) state.coordinator.terminate();
    state = { summary: null, failure: null, entries: 0, running: true, started: performance.now(), head: null };
    $("start").disabled = true;
    $("verdict").dataset.verdict = "running";
    delete $("verdict").dataset.position;
    $("verdict").textContent = t("running");
    render();
    const module = await modulePromise;
    const count = Math.max(1, Math.min(16, navigator.hardwareConcurrency || 2));
    state.workers = count;
    const coordinator = await spawn("coordinator", module);
    const signers = await Promise.all(Array.from({ length: count }, () => spawn("signatures", module)));
    state.coordinator = coordinator;
    let source;
    try { source = await openSource(); } catch (e) { return fail(e.message, [coordinator, ...signers]); }
    state.expectedEntries = source.entries || 0;
    const reader = source.stream.getReader();
    const BATCH = 256 * 1024;
    const LINE_BYTES_MAX = 131584; // FORMAT.md section 6: longer is malformed_line
    let overlong = false;
    let pending = new Uint8Array(0);
    let nextId = 0, nextToCheck = 0, bytesRead = 0, free = signers.slice();
    const signed = new Map();
    const waiters = [];
    let done = false;
    const finished = new Promise((resolve) => {
      coordinator.onmessage = (e) => {
        const m = e.data;
        if (m.type === "progress") { state.entries = m.entries; progress(bytesRead, source.total); }
        else if (m.type === "done" || m.type === "failed" || m.type === "error") { if (!done) { done = true; resolve(m); } }
        else if (m.type === "found") showFound(m.acts);
        else if (m.type === "headChecked") { state.head.ok = m.ok; render(); }
      };
    });
    for (const s of signers) s.onmessage = (e) => {
      const m = e.data;
      signed.set(m.id, m);
      free.push(s);
      while (signed.has(nextToCheck)) {
        const r = signed.get(nextToCheck); signed.delete(nextToCheck);
        coordinator.postMessage({ type: "check", id: r.id, batch: r.batch, verdicts: r.verdicts }, [r.batch.buffer, r.verdicts.buffer]);
        nextToCheck++;
      }
      const w = waiters.shift(); if (w) w();
    };
    const send = async (batch) => {
      while (free.length === 0) await new Promise((r) => waiters.push(r));
      const worker = free.shift();
      worker.postMessage({ type: "sign", id: nextId++, batch }, [batch.buffer]);
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
        if (end || done) break; // done: the coordinator already found the first failure
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
      return fail(e.message, [coordinator, ...signers]);
    }
    // Wait for every batch to reach the coordinator, then finish.
    while (nextToCheck < nextId && !done) await new Promise((r) => waiters.push(r));
    coordinator.postMessage({ type: "finish", partial: overlong ? LINE_BYTES_MAX + 1 : pending.length });
    const result = await finished;
    for (const s of signers) s.terminate();
    state.running = false;
    $("start").disabled = false;
    state.seconds = (performance.now() - state.started) / 1000;
    if (result.type === "done") {
      state.summary = result.summary; state.entries = result.entries;
      // The node's signed head, fetched before the export: check its
      // signature with the log key the verified genesis publishes.
      if (source.headJson) {
        const head = JSON.parse(source.headJson);
        state.head = { size: head.size, matches: head.size === result.summary.size && head.head_hash === result.summary.head, ok: null };
        coordinator.postMessage({ type: "checkHead", json: source.headJson, key: result.summary.log_key });
      }
    }
    else if (result.type === "failed") { state.failure = result.failure; state.entries = result.entries; }
    else { state.error = result.message; }
    state.expectedEntries = 0;
    progress(bytesRead, bytesRead);
    render();
  }

  function fail(message, workers) {
    for (const w of workers) w.terminate();
    state.running = false;
    state.error = t("error", { m: message });
    $("start").disabled = false;
    render();
  }

  function progress(read, total) {
    const p = $("progress");
    if (state.expectedEntries) { p.max = state.expectedEntries; p.value = Math.min(state.entries, state.expectedEntries); }
    else if (total) { p.max = total; p.value = Math.min(read, total); } else p.removeAttribute("value");
    $("progress-text").textContent = t("progress", { n: state.entries.toLocaleString() });
  }

  // ---- drawing ----------------------------------------------------------
  function bar(parts, threshold, width) {
    const max = Math.max(threshold, parts.reduce((a, p) => a + p.value, 0), 1) * 1.1;
    const scale = (v) => (v / max) * (width - 10);
    let x = 0, rects = "";
    for (const p of parts) {
      const w = scale(p.value);
      rects += `<rect x="${x}" y="4" width="${w}" height="20" fill="${p.color}"><title>${esc(p.label)}: ${p.value}</title></rect>`;
      x += w;
    }
    const tx = scale(threshold);
    return `<svg viewBox="0 0 ${width} 44" role="img" aria-label="${esc(parts.map((p) => p.label + " " + p.value).join(", "))}, ${t("threshold")} ${threshold}">
      <rect x="0" y="4" width="${width - 10}" height="20" fill="#eef1f5"/>${rects}
      <line x1="${tx}" x2="${tx}" y1="0" y2="28" stroke="#1b1f24" stroke-width="2" stroke-dasharray="3 2"/>
      <text x="${Math.min(tx, width - 90)}" y="40">${t("threshold")} ${threshold}</text></svg>`;
  }

  function render() {
    const v = $("verdict");
    const facts = $("facts");
    if (state.error) { v.dataset.verdict = "error"; v.textContent = state.error; }
    if (state.failure) {
      const f = state.failure;
      v.dataset.verdict = "invalid";
      v.dataset.position = f.position;
      v.dataset.entries = state.entries;
      v.textContent = t("invalid", { p: f.position });
      facts.innerHTML = `<dt>${t("reason")}</dt><dd>${esc(t("reasons." + f.code) !== "reasons." + f.code ? t("reasons." + f.code) : f.code)} (${esc(f.code)})</dd>
        <dt>${t("entries")}</dt><dd>${state.entries}</dd><dt></dt><dd>${esc(f.message)}</dd>`;
    }
    const s = state.summary;
    if (!s) { for (const id of ["petitions", "referendums", "districts"]) $(id).innerHTML = ""; return; }
    v.dataset.verdict = "valid";
    v.dataset.entries = s.size;
    delete v.dataset.position;
    v.textContent = t("valid", { n: s.size.toLocaleString() });
    facts.innerHTML = `<dt>${t("jurisdiction")}</dt><dd>${esc(s.jurisdiction)}</dd>
      <dt>${t("entries")}</dt><dd>${s.size}</dd><dt>${t("head")}</dt><dd>${s.head}</dd>
      <dt>${t("ledger")}</dt><dd>${s.ledger_id}</dd><dt>${t("asOf")}</dt><dd>${date(s.time_ms)}</dd>
      <dt>${t("enrolled")}</dt><dd>${s.enrolled}</dd>` + headFact();
    $("petitions").innerHTML = s.petitions.length ? s.petitions.map((p) => {
      const cls = ["accepted", "in_referendum"].includes(p.status) ? "good" : ["lapsed", "rejected", "withdrawn", "ruling_overdue"].includes(p.status) ? "bad" : "";
      const ruling = p.ruling ? `<p class="meta">${t("council")}: <strong>${t(p.ruling.decision)}</strong> — ${esc(p.ruling.reasons)}</p>` : "";
      return `<div class="item"><h3>${esc(p.title)}</h3>
        <p><span class="badge ${cls}">${t("status." + p.status)}</span><span class="meta">#${p.position} · ${esc(p.subject)} · ${t("until")} ${date(p.signing_deadline_ms)}</span></p>
        ${bar([{ label: t("online"), value: p.supports_online, color: "#0b5cad" }, { label: t("paper"), value: p.supports_paper, color: "#b35c00" }], p.threshold, 520)}
        <p class="meta">${p.supports_online} ${t("online")} + ${p.supports_paper} ${t("paper")} / ${p.threshold}</p>${ruling}</div>`;
    }).join("") : `<p>${t("noneYet")}</p>`;
    $("referendums").innerHTML = s.referendums.length ? s.referendums.map((r) => {
      const valid = r.tally.reduce((a, b) => a + b, 0);
      const needed = Math.max(Math.floor((s.rules.approval_share_bp * valid) / 10000) + 1, Math.ceil((s.rules.yes_share_of_electorate_bp * r.electorate) / 10000));
      const max = Math.max(needed, ...r.tally, 1) * 1.1;
      const rows = r.options.map((o, i) => {
        const w = (r.tally[i] / max) * 380;
        return `<text x="0" y="${i * 30 + 18}">${esc(o).slice(0, 18)}</text><rect x="120" y="${i * 30 + 4}" width="${w}" height="20" fill="${i === 0 ? "#12663a" : "#6b7380"}"/><text x="${125 + w}" y="${i * 30 + 18}">${r.tally[i]}</text>`;
      }).join("");
      const nx = 120 + (needed / max) * 380;
      const outcome = r.declared || (r.phase === "closed" ? r.computed_outcome : null);
      return `<div class="item"><h3>${esc(r.question)}</h3>
        <p><span class="badge ${outcome === "approved" ? "good" : outcome ? "bad" : ""}">${t("phase." + r.phase)}${outcome ? " · " + t(outcome) : ""}</span>
        <span class="meta">${date(r.opens_at_ms)} – ${date(r.closes_at_ms)} · ${valid} ${t("ballots")} / ${r.electorate} ${t("electorate")}</span></p>
        <svg viewBox="0 0 560 ${r.options.length * 30 + 22}" role="img" aria-label="${esc(r.options.map((o, i) => o + " " + r.tally[i]).join(", "))}; ${t("needed")} ${needed}">${rows}
        <line x1="${nx}" x2="${nx}" y1="0" y2="${r.options.length * 30}" stroke="#a4161a" stroke-width="2" stroke-dasharray="4 3"/>
        <text x="${Math.min(nx, 420)}" y="${r.options.length * 30 + 16}" fill="#a4161a">${t("needed")}: ${needed}</text></svg></div>`;
    }).join("") : `<p>${t("noneYet")}</p>`;
    const maxE = Math.max(1, ...s.districts.map((d) => d.enrolled));
    $("districts").innerHTML = `<table><thead><tr><th>${t("district")}</th><th>${t("enrolled")}</th><th>${t("supports")}</th><th>${t("ballots")}</th></tr></thead><tbody>` +
      s.districts.map((d) => `<tr><td>${esc(d.name || t("none"))}</td><td class="num">${d.enrolled} <svg viewBox="0 0 100 10" style="width:6rem;display:inline-block" aria-hidden="true"><rect width="${(d.enrolled / maxE) * 100}" height="10" fill="#0b5cad"/></svg></td><td class="num">${d.supports}</td><td class="num">${d.ballots}</td></tr>`).join("") +
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

  function showFound(acts) {
    const s = state.summary;
    const about = (id) => {
      if (!id || !s) return "";
      const p = s.petitions.find((x) => x.id === id);
      if (p) return `${t("about")}: ${esc(p.title)} (${t("status." + p.status)})`;
      const r = s.referendums.find((x) => x.id === id);
      if (r) return `${t("about")}: ${esc(r.question)} (${t("phase." + r.phase)})`;
      return `${t("about")} <code>${id.slice(0, 16)}…</code>`;
    };
    $("found").innerHTML = acts.length ? "<ul>" + acts.map((a) =>
      `<li>${t("position")} #${a.position}: <strong>${esc(a.kind)}</strong> — ${t("counts")} ✓<br>${about(a.target)}<br><code>${a.hash}</code></li>`).join("") + "</ul>"
      : `<p>${t("noActs")}</p>`;
  }

  // ---- wiring -----------------------------------------------------------
  for (const radio of document.querySelectorAll("input[name=source]")) radio.addEventListener("change", () => {
    const choice = document.querySelector("input[name=source]:checked").value;
    $("url-row").hidden = choice !== "url";
    $("file-row").hidden = choice !== "file";
  });
  $("source-form").addEventListener("submit", (e) => { e.preventDefault(); verify(); });
  $("find-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (state.coordinator) state.coordinator.postMessage({ type: "find", query: $("find").value.trim().toLowerCase() });
  });
  $("lang").addEventListener("change", () => { lang = $("lang").value; localStorage.setItem("dauys.lang", lang); applyLanguage(); });
  // The benchmark's limit: raw signature checks per second with `workers`
  // signature workers busy at once on `batch` (whole export lines), no rules.
  async function rawRate(batch, workers, millis) {
    const module = await modulePromise;
    const pool = await Promise.all(Array.from({ length: workers }, () => spawn("signatures", module)));
    const lines = batch.split("\n").filter((l) => l).length;
    const bytes = new TextEncoder().encode(batch);
    const started = performance.now();
    let checked = 0;
    await Promise.all(pool.map((w) => new Promise((resolve) => {
      const again = () => {
        if (performance.now() - started > millis) return resolve();
        w.postMessage({ type: "sign", id: 0, batch: bytes.slice() });
      };
      w.onmessage = () => { checked += lines; again(); };
      again();
    })));
    const seconds = (performance.now() - started) / 1000;
    for (const w of pool) w.terminate();
    return checked / seconds;
  }
  window.dauys = { verify, state: () => state, rawRate, workers: () => Math.max(1, Math.min(16, navigator.hardwareConcurrency || 2)) };
  applyLanguage();
  if (location.protocol === "file:") {
    document.querySelector("input[value=file]").checked = true;
    $("file-row").hidden = false;
  } else {
    verify();
  }
})();
