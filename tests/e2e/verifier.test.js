// Browser end-to-end tests of the web verifier, in headless Chromium.
// Needs: DAUYS_BIN (the dauys binary with the page built in), Chromium at
// CHROMIUM (default /usr/bin/chromium). Screenshots go to artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { artifacts, bin, fixtures, launch, startDemo, verdictOf } from "./harness.js";

const expected = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8"));

let demo, url, browser, scratch;

before(async () => {
  demo = await startDemo();
  ({ url, scratch } = demo);
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (demo) demo.stop();
});

test("the page served by the demo node verifies the ledger with the counts of `dauys verify`", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url + "/");
  const verdict = await verdictOf(page);
  assert.equal(verdict.verdict, "valid", verdict.text);
  const cli = JSON.parse(execFileSync(bin, ["verify", "--json", url], { encoding: "utf8" }));
  assert.equal(Number(verdict.entries), cli.summary.size);
  const summary = await page.evaluate(() => window.dauys.state().summary);
  for (const field of ["head", "enrolled", "petitions", "referendums", "districts"]) {
    assert.deepEqual(summary[field], cli.summary[field], field);
  }
  // A format 2 node: its checkpoint is checked against the tree of the
  // entries replayed, and remembered.
  await page.waitForSelector("#checkpoint");
  assert.equal(await page.getAttribute("#checkpoint", "data-ok"), "true", await page.textContent("#checkpoint"));
  assert.equal(Number(await page.getAttribute("#checkpoint", "data-size")), cli.summary.size);
  assert.equal(await page.locator("#referendums .item").count(), cli.summary.referendums.length);
  // The demo's referendum is secret: the page shows the trustees, who
  // decrypted and who did not, and the re-vote, from its own replay.
  const secret = await page.textContent("#referendums .secret");
  assert.match(secret, /3 trustees; any 2 of them together decrypt the sum/, secret);
  assert.match(secret, /Key ceremony: complete/, secret);
  assert.match(secret, /20 ballots counted \(one per voter\) · 1 replaced by a later ballot/, secret);
  assert.match(secret, /decrypted by trustees #0, #2; 2 needed; did not decrypt: #1/, secret);
  await page.screenshot({ path: join(artifacts, "valid-en.png"), fullPage: true });
  // The petitions, on their own page: one item each.
  await page.goto(url + "/#/petitions");
  await page.waitForSelector("#petitions .item");
  assert.equal(await page.locator("#petitions .item").count(), cli.summary.petitions.length);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the language switch changes every label", async () => {
  const page = await browser.newPage();
  await page.goto(url + "/");
  await verdictOf(page);
  for (const [lang, heading, verdictWord] of [["kk", "Петициялар", "Дұрыс"], ["ru", "Петиции", "Проверка пройдена"], ["en", "Petitions", "Valid"]]) {
    await page.selectOption("#lang", lang);
    assert.equal(await page.textContent("#petitions-h"), heading);
    assert.ok((await page.textContent("#verdict")).startsWith(verdictWord));
    assert.equal(await page.getAttribute("html", "lang"), lang);
    await page.screenshot({ path: join(artifacts, `valid-${lang}.png`), fullPage: true });
  }
  await page.close();
});

test("find my act lists a voter's support", async () => {
  const page = await browser.newPage();
  await page.goto(url + "/");
  await verdictOf(page);
  const line = readFileSync(join(fixtures, "valid.jsonl"), "utf8").split("\n")[12];
  const entry = Buffer.from(JSON.parse(line).entry, "base64");
  const author = entry.subarray(8 + 2 + 8 + 32 + 8, 8 + 2 + 8 + 32 + 8 + 32).toString("hex");
  await page.fill("#find", author);
  await page.click("#find-form button");
  await page.waitForSelector("#found li");
  assert.match(await page.textContent("#found"), /: support —/);
  assert.match(await page.textContent("#found"), /Keep the village library open on Sundays/); // what it supports, by title
  await page.close();
});

test("find my act says which of a re-voter's secret ballots counts", async () => {
  const page = await browser.newPage();
  await page.goto(url + "/");
  await verdictOf(page);
  // Line 44 of the format 3 village is voter 27's first ballot; line 45 their second.
  const line = readFileSync(join(fixtures, "v3", "valid.jsonl"), "utf8").split("\n")[44];
  const entry = Buffer.from(JSON.parse(line).entry, "base64");
  const author = entry.subarray(8 + 2 + 8 + 32 + 8, 8 + 2 + 8 + 32 + 8 + 32).toString("hex");
  await page.fill("#find", author);
  await page.click("#find-form button");
  await page.waitForSelector("#found li");
  const items = await page.locator("#found li").allTextContents();
  const ballots = items.filter((text) => /: ballot —/.test(text));
  assert.equal(ballots.length, 2, items.join("\n"));
  assert.match(ballots[0], /replaced by your later ballot: not counted/);
  assert.match(ballots[1], /counts ✓/);
  await page.close();
});

test("each tampered fixture, loaded as a file, is caught at its expected position", async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(url + "/");
  await verdictOf(page);
  for (const [name, want] of Object.entries(expected)) {
    if (want.verdict !== "invalid") continue;
    await page.check("input[value=file]");
    await page.setInputFiles("#file", join(fixtures, `${name}.jsonl`));
    await page.click("#start");
    await page.waitForFunction(() => !window.dauys.state().running);
    const verdict = await verdictOf(page);
    assert.equal(verdict.verdict, "invalid", `${name}: ${verdict.text}`);
    assert.equal(Number(verdict.position), want.position, `${name}: ${verdict.text}`);
    await page.screenshot({ path: join(artifacts, `${name.replace("/", "-")}.png`), fullPage: false });
  }
  await page.close();
});

test("a large ledger shows what is known while it streams, marked as not yet verified", async () => {
  const generator = process.env.DAUYS_FIXTURES_BIN || join(dirname(bin), "dauys-fixtures");
  const large = join(scratch, "large.jsonl");
  execFileSync(generator, ["large", "30000", large, "--format", "3"]);
  const page = await browser.newPage();
  await page.goto(url + "/");
  await verdictOf(page);
  // Every moment the not-yet-verified state is on screen, with how far the replay was.
  await page.evaluate(() => {
    window.partials = [];
    new MutationObserver(() => {
      const note = document.querySelector("#referendums .unverified");
      if (note && window.dauys.state().running) window.partials.push({ note: note.textContent, line: document.getElementById("state-line").textContent, entries: window.dauys.state().entries });
    }).observe(document.getElementById("referendums"), { childList: true, subtree: true });
  });
  await page.check("input[value=file]");
  await page.setInputFiles("#file", large);
  await page.click("#start");
  await page.waitForFunction(() => !window.dauys.state().running, null, { timeout: 120_000 });
  const verdict = await verdictOf(page);
  assert.equal(verdict.verdict, "valid", verdict.text);
  const partials = await page.evaluate(() => window.partials);
  assert.ok(partials.length > 0, "nothing was shown before the verdict");
  assert.ok(partials[0].entries < Number(verdict.entries), JSON.stringify(partials[0]));
  assert.match(partials[0].note, /Not yet verified/);
  assert.match(partials[0].line, /not yet verified/);
  assert.equal(await page.locator("#referendums .unverified").count(), 0, "the mark goes once verified");
  await page.close();
});

test("an invalid verdict is explained in the reader's language, a cut-off download told apart, and no earlier fact stays", async () => {
  const page = await browser.newPage({ viewport: { width: 360, height: 780 } });
  await page.goto(url + "/");
  await verdictOf(page);
  await page.waitForSelector("#checkpoint");
  await page.check("input[value=file]");
  await page.setInputFiles("#file", join(fixtures, "tampered", "double_support.jsonl"));
  await page.click("#start");
  await page.waitForFunction(() => !window.dauys.state().running);
  assert.equal((await verdictOf(page)).verdict, "invalid");
  // Nothing of the ledger verified before stays on screen.
  assert.equal(await page.locator("#facts dt").count(), 0);
  assert.equal(await page.locator("#checkpoint, #signed-head").count(), 0);
  const explain = async () => page.evaluate(() => {
    const el = document.getElementById("explain");
    const details = el.querySelector("details");
    return { open: el.textContent.replace(details ? details.textContent : "", ""), details: details ? details.textContent : "" };
  });
  let text = await explain();
  assert.match(text.open, /Entry #11 breaks the published rules/);
  assert.match(text.open, /a voter supported the same petition twice/);
  assert.match(text.open, /It concerns the petition “/);
  assert.match(text.open, /Try again from another mirror/);
  assert.match(text.details, /double_support/, "the engine's words only under the details");
  assert.doesNotMatch(text.open, /double_support|[0-9a-f]{64}/);
  await page.selectOption("#lang", "ru");
  text = await explain();
  assert.match(text.open, /Запись №11 нарушает опубликованные правила/);
  assert.match(text.open, /Это касается петиции «/);
  await page.screenshot({ path: join(artifacts, "invalid-explained-ru.png"), fullPage: true });
  await page.selectOption("#lang", "en");
  // A cut-off export: not a forgery, "try again".
  await page.setInputFiles("#file", join(fixtures, "tampered", "truncated_line.jsonl"));
  await page.click("#start");
  await page.waitForFunction(() => !window.dauys.state().running);
  assert.equal(await page.textContent("#verdict"), "Could not read all of the ledger");
  assert.match((await explain()).open, /This is not evidence of forgery/);
  await page.close();
});

test("the saved page verifies a file from disk, with no server", async () => {
  const html = await (await fetch(url + "/web/dauys-verifier.html")).text();
  const saved = join(scratch, "dauys-verifier.html");
  writeFileSync(saved, html);
  const page = await browser.newPage();
  await page.goto("file://" + saved);
  await page.setInputFiles("#file", join(fixtures, "valid.jsonl"));
  await page.click("#start");
  const verdict = await verdictOf(page);
  assert.equal(verdict.verdict, "valid", verdict.text);
  assert.equal(Number(verdict.entries), expected.valid.entries);
  await page.screenshot({ path: join(artifacts, "offline-file.png"), fullPage: true });
  await page.close();
});


// ---- the transparency log ----------------------------------------------

const demoKeys = () => demo.keys;
const dauys = (...args) => demo.dauys(...args);

async function verifiedPage(target = url + "/") {
  const page = await browser.newPage();
  await page.goto(target);
  const verdict = await verdictOf(page);
  await page.waitForSelector("#checkpoint");
  return { page, verdict };
}

// Grows the demo log by one act (the commission enrols a fresh voter).
function grow() {
  const key = join(scratch, `voter-${Date.now()}-${Math.random()}.key`);
  const publicKey = dauys("keygen", "--out", key).trim();
  const receipt = join(scratch, `enrol-${Date.now()}.tlog-proof`);
  dauys("enroll", "--node", url, "--key", join(demoKeys(), "commission.key"), "--district", "Ortalyq", "--save-receipt", receipt, publicKey);
  return receipt;
}

test("the checkpoint is remembered, and a later one must extend it", async () => {
  const first = await verifiedPage();
  const seen = await first.page.evaluate(() => JSON.parse(localStorage.getItem("dauys.seen")));
  const [key] = Object.keys(seen);
  assert.equal(key, dauys("log-key", url).trim());
  assert.match(await first.page.textContent("#checkpoint"), /first checkpoint of this log/);
  grow();
  await first.page.reload();
  await verdictOf(first.page);
  await first.page.waitForSelector("#checkpoint");
  assert.equal(await first.page.getAttribute("#checkpoint", "data-ok"), "true");
  assert.match(await first.page.textContent("#checkpoint"), new RegExp(`extends the checkpoint of ${seen[key].size} entries`));
  await first.page.close();
});

test("a forked view is caught: the root this browser saw differs", async () => {
  const { page } = await verifiedPage();
  const key = dauys("log-key", url).trim();
  // As if this browser had been shown another history of the first 3 entries.
  await page.evaluate((key) => localStorage.setItem("dauys.seen", JSON.stringify({ [key]: { size: 3, root: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" } })), key);
  await page.reload();
  await verdictOf(page);
  await page.waitForSelector("#checkpoint[data-ok=false]");
  // The log alone verifies (every entry counted), the checkpoint does not.
  assert.equal(await page.getAttribute("#verdict", "data-verdict"), "invalid");
  assert.equal(Number(await page.getAttribute("#verdict", "data-entries")), await page.evaluate(() => window.dauys.state().summary.size));
  assert.match(await page.textContent("#checkpoint"), /FORK/);
  await page.screenshot({ path: join(artifacts, "forked-view.png"), fullPage: false });
  await page.close();
});

test("check my receipt: offline, then still there from a few tiles, not the log", async () => {
  const receipt = grow();
  for (let i = 0; i < 3; i++) grow(); // the log moves on
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const requests = [];
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(url + "/");
  await verdictOf(page);
  requests.length = 0;
  await page.setInputFiles("#receipt-file", receipt);
  await page.click("#receipt-form button");
  await page.waitForSelector("#receipt-result[data-state=ok], #receipt-result[data-state=bad]", { timeout: 30_000 });
  const text = await page.textContent("#receipt-result");
  assert.equal(await page.getAttribute("#receipt-result", "data-state"), "ok", text);
  assert.match(text, /voters enrolled/);
  assert.ok(Number(await page.getAttribute("#receipt-result", "data-tiles")) > 0, text);
  assert.ok(!requests.includes("/v1/export"), "the log was not downloaded: " + requests.join(" "));
  await page.screenshot({ path: join(artifacts, "receipt-ok.png"), fullPage: true });
  // An altered receipt: refused, with the reason.
  const altered = readFileSync(receipt, "utf8").replace(/^index (\d+)$/m, (_, n) => `index ${Number(n) + 1}`);
  await page.setInputFiles("#receipt-file", []);
  await page.fill("#receipt-text", altered);
  await page.click("#receipt-form button");
  await page.waitForSelector("#receipt-result[data-state=bad]");
  assert.match(await page.textContent("#receipt-result"), /does not check out/);
  await page.close();
});

test("a static mirror (copied to any web server) is verified from its tiles", async () => {
  const out = join(scratch, "mirror");
  // The node keeps its served checkpoint at most a second after serving it.
  await new Promise((r) => setTimeout(r, 1500));
  dauys("mirror", join(scratch, "demo"), out);
  const server = createServer((req, res) => {
    const path = join(out, decodeURIComponent(new URL(req.url, "http://x").pathname));
    try {
      const body = readFileSync(path);
      res.writeHead(200, { "Access-Control-Allow-Origin": "*" });
      res.end(body);
    } catch (e) { res.writeHead(404, { "Access-Control-Allow-Origin": "*" }); res.end(); }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const mirror = `http://127.0.0.1:${server.address().port}`;
  const page = await browser.newPage();
  await page.goto(url + "/");
  await verdictOf(page);
  await page.check("input[value=url]");
  await page.fill("#url", mirror);
  await page.click("#start");
  await page.waitForFunction(() => !window.dauys.state().running);
  const verdict = await verdictOf(page);
  assert.equal(verdict.verdict, "valid", verdict.text);
  await page.waitForSelector("#checkpoint");
  assert.equal(await page.getAttribute("#checkpoint", "data-ok"), "true");
  assert.equal(Number(verdict.entries), Number(await page.getAttribute("#checkpoint", "data-size")));
  server.close();
  await page.close();
});
