// Browser end-to-end tests of the citizens' portal against a real demo
// node, at phone size: a key made on the device, backed up and restored;
// enrolment by the commission's command line; filing (a screened text
// flagged before sending, refused when sent anyway), supporting,
// withdrawing, voting in a secret referendum and finding the ballot
// counted; receipts kept and re-checked after the log grows. Every state is
// photographed in Kazakh, Russian and English and checked with axe-core;
// the key's secret never appears in a request, a URL, the node's log or
// storage other than the locked key.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { artifacts, axeViolations, launch, startDemo } from "./harness.js";

const PHONE = { viewport: { width: 360, height: 780 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true, acceptDownloads: true };
const LANGS = ["kk", "ru", "en"];
const DAY = 86_400_000;

let demo, browser;

before(async () => {
  demo = await startDemo();
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (demo) demo.stop();
});

// Photographs the page in every language and checks it with axe-core;
// returns to `back` (the test's language).
async function everyLanguage(page, name, back) {
  for (const lang of LANGS) {
    await page.selectOption("#lang", lang);
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(artifacts, `portal-${name}-${lang}.png`), fullPage: true });
    const violations = await axeViolations(page);
    assert.deepEqual(violations, [], `${name} (${lang}): axe-core`);
    // Reflow at phone width, and at WCAG's 320 CSS pixels: nothing wider
    // than the screen.
    for (const width of [360, 320]) {
      await page.setViewportSize({ width, height: 780 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${name} (${lang}): the page is ${overflow}px wider than a ${width}px screen`);
    }
    await page.setViewportSize(PHONE.viewport);
  }
  await page.selectOption("#lang", back);
  await page.waitForTimeout(100);
}

const verified = (page) => page.waitForSelector("#state-line[data-state=valid]", { timeout: 60_000 });

// Waits until the page has re-verified after an act (its own replay,
// not the node's word), at least `size` entries.
async function reverified(page, size) {
  await page.waitForFunction((size) => {
    const s = window.dauys.state();
    return !s.running && s.present && s.present.size >= size;
  }, size, { timeout: 60_000 });
}

const sizeOf = (page) => page.evaluate(() => window.dauys.state().present.size);

async function withDialogsAccepted(page) {
  page.on("dialog", (d) => d.accept());
}

test("a key made on the phone is backed up, restored, shown as a QR code and enrolled by the clerk", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await withDialogsAccepted(page);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(demo.url + "/#/key");
  await page.selectOption("#lang", "kk");
  await verified(page);
  await page.fill("#new-pass", "tau men dala 2026");
  await page.fill("#new-pass2", "tau men dala 2026");
  await page.click("#create-form button[type=submit]");
  await page.waitForSelector("#public-key");
  const publicKey = (await page.textContent("#public-key")).trim();
  assert.match(publicKey, /^[0-9a-f]{64}$/);
  assert.equal(await page.locator("#qr svg").count(), 1, "the public key as a QR code");
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem("dauys.key")));
  assert.equal(stored.format, "dauys-locked-key/1");
  assert.equal(stored.public_key, publicKey);
  assert.equal(stored.kdf.name, "argon2id");
  await everyLanguage(page, "key-created", "kk");

  // Backup: the locked key, as a file.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#backup-btn")]);
  const backup = join(demo.scratch, "backup.json");
  await download.saveAs(backup);
  assert.deepEqual(JSON.parse(readFileSync(backup, "utf8")), stored);

  // Removed from the device, then restored from the backup: the same key;
  // a wrong passphrase opens nothing.
  await page.click("details.danger-zone summary");
  await page.click("#remove-btn");
  await page.waitForSelector("#restore-form");
  assert.equal(await page.evaluate(() => localStorage.getItem("dauys.key")), null);
  await page.setInputFiles("#restore-file", backup);
  await page.fill("#restore-pass", "wrong passphrase");
  await page.click("#restore-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("key-message").textContent.length > 20);
  assert.equal(await page.locator("#public-key").count(), 0);
  await page.setInputFiles("#restore-file", backup);
  await page.fill("#restore-pass", "tau men dala 2026");
  await page.click("#restore-form button[type=submit]");
  await page.waitForSelector("#public-key");
  assert.equal((await page.textContent("#public-key")).trim(), publicKey);

  // The clerk scans the QR code and enrols the key with the command line.
  await page.waitForSelector("#enrolment[data-enrolled=false]");
  demo.dauys("enroll", "--node", demo.url, "--key", join(demo.keys, "commission.key"), "--district", "Zhogargy", publicKey);
  await page.reload();
  await verified(page);
  await page.waitForSelector("#enrolment[data-enrolled=true]");
  assert.match(await page.textContent("#enrolment"), /Zhogargy/);
  await everyLanguage(page, "key-enrolled", "kk");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a citizen files, is refused a screened text, supports, withdraws, votes in secret and re-checks every receipt", async () => {
  const { dauys, url, keys } = demo;
  // A key file from the command line, restored into the page: the test
  // knows its secret, to prove that nothing sends or stores it.
  const keyFile = join(demo.scratch, "citizen.key");
  const publicKey = dauys("keygen", "--out", keyFile).trim();
  const seedHex = readFileSync(keyFile, "utf8").split("\n").find((l) => /^[0-9a-f]{64}$/.test(l.trim())).trim();
  const seedB64 = Buffer.from(seedHex, "hex").toString("base64");
  const seedB64Url = Buffer.from(seedHex, "hex").toString("base64url");

  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await withDialogsAccepted(page);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const sent = [];
  page.on("request", (r) => sent.push(r.url() + "\n" + (r.postData() || "")));
  await page.goto(url + "/#/key");
  await page.selectOption("#lang", "en");
  await verified(page);
  await page.setInputFiles("#restore-file", keyFile);
  await page.fill("#restore-pass", "a long passphrase");
  await page.click("#restore-form button[type=submit]");
  await page.waitForSelector("#public-key");
  assert.equal((await page.textContent("#public-key")).trim(), publicKey);
  dauys("enroll", "--node", url, "--key", join(keys, "commission.key"), "--district", "Ortalyq", publicKey);

  // The commission's side, on the command line: the council rejects the
  // road petition and a secret referendum on it is called, opening soon;
  // the trustees hold the key ceremony.
  const before = JSON.parse(dauys("verify", "--json", url)).summary;
  const road = before.petitions.find((p) => p.status === "awaiting_ruling");
  const river = before.petitions.find((p) => p.status === "collecting");
  dauys("council", "rule", "--node", url, "--key", join(keys, "council.key"), road.id, "--decision", "reject", "--reasons", "No funds this year.");
  const opens = Date.now() + 40_000;
  const trustees = [0, 1, 2].map((n) => join(keys, `trustee-${n}.key`));
  const call = ["referendum", "call", "--node", url, "--key", join(keys, "commission.key"), road.id, "--subject", "infrastructure",
    "--question", "Should the village repair the cemetery road this year?", "--opens-at-ms", String(opens), "--window-ms", String(DAY), "--threshold", "2"];
  for (const t of trustees) call.push("--trustee", dauys("key", "public", t).trim());
  const referendum = JSON.parse(dauys(...call)).entry_hash;
  for (let round = 0; round < 3; round++) for (const t of trustees) dauys("trustee", "ceremony", "--node", url, "--key", t, referendum);

  // File: the published screen flags "budget" before sending.
  await page.reload();
  await verified(page);
  await page.goto(url + "/#/file");
  await page.waitForSelector("#file-form");
  assert.equal(await page.locator("#file-subject option[disabled]").count(), before.rules.subjects.filter((s) => s.excluded).length);
  await page.selectOption("#file-subject", "education");
  await page.fill("#file-title", "A new budget line for the school roof");
  await page.fill("#file-text", "The roof of school No. 2 leaks. Please repair it before winter.");
  await page.waitForSelector("#screen-result[data-state=flagged]");
  assert.match(await page.textContent("#screen-result"), /“budget”/);
  assert.equal((await page.textContent("#file-send")).trim(), "Send anyway");
  await everyLanguage(page, "file-flagged", "en");
  // Sent anyway: the node refuses it, in the citizen's language, with the rule.
  await page.click("#file-send");
  await page.fill("#inline-pass", "a long passphrase");
  await page.click("#inline-unlock button[type=submit]");
  await page.waitForSelector("#file-result[data-state=refused]", { timeout: 30_000 });
  assert.equal(await page.getAttribute("#file-result", "data-code"), "screened_text");
  assert.match(await page.textContent("#file-result"), /“budget”.*excluded subject “Budget”/);
  await page.selectOption("#lang", "ru");
  assert.match(await page.textContent("#file-result"), /Отказ: в тексте есть «budget»/);
  await page.selectOption("#lang", "en");
  await everyLanguage(page, "file-refused", "en");
  // Rephrased: clear, filed, receipt checked on the device.
  await page.fill("#file-title", "Repair the school roof");
  await page.waitForSelector("#screen-result[data-state=clear]");
  let size = await sizeOf(page);
  await page.click("#file-send");
  await reverified(page, size + 1);
  await page.waitForSelector("#file-result[data-state=done]", { timeout: 30_000 });
  assert.match(await page.textContent("#file-result"), /Receipt checked on this device/);
  const petitionLink = await page.getAttribute("#file-result a[href^='#/petition/']", "href");
  await everyLanguage(page, "file-done", "en");

  // Its own page: text, initiator (you), deadline; then withdrawn.
  await page.goto(url + "/" + petitionLink);
  await page.waitForSelector("#petition-h");
  assert.equal(await page.textContent("#petition-h"), "Repair the school roof");
  const detail = await page.textContent("#petition-detail");
  assert.match(detail, /The roof of school No\. 2 leaks/);
  assert.match(detail, /\(you\)/);
  assert.match(detail, /30 days left/);
  await page.waitForSelector("details.withdraw");
  await everyLanguage(page, "petition-mine", "en");
  await page.click("details.withdraw summary");
  await page.fill("#withdraw-reasons", "Filed in the wrong district.");
  size = await sizeOf(page);
  await page.click("#withdraw-btn");
  await reverified(page, size + 1);
  await page.waitForSelector("#act-result[data-state=done]", { timeout: 30_000 });
  await page.waitForFunction(() => /withdrawn by the initiator/.test(document.getElementById("petition-detail").textContent));

  // Support: the river petition, from the list, one button.
  await page.goto(url + "/#/petitions");
  await page.waitForSelector("#petitions .item");
  await page.fill("#q", "Өзен");
  await page.waitForFunction(() => document.querySelectorAll("#petitions .item").length === 1);
  await everyLanguage(page, "petitions-search", "en");
  await page.click("#petitions .item a");
  await page.waitForSelector("#support-btn");
  size = await sizeOf(page);
  await page.click("#support-btn");
  await reverified(page, size + 1);
  await page.waitForSelector("#act-result[data-state=done]", { timeout: 30_000 });
  await page.waitForSelector("#petition-actions .ok");
  const supported = await page.evaluate((id) => window.dauys.state().present.petitions.find((p) => p.id === id), river.id);
  assert.equal(supported.supports_online, river.supports_online + 1);
  await everyLanguage(page, "petition-supported", "en");

  // Vote: encrypted and proven on the phone, then found counted.
  await page.waitForTimeout(Math.max(0, opens - Date.now() + 500));
  await page.evaluate(() => window.dauys.verify());
  await page.goto(url + "/#/vote/" + referendum);
  await page.waitForSelector("#vote-form");
  assert.match(await page.textContent("#vote-panel"), /only your latest ballot counts/);
  await everyLanguage(page, "vote-form", "en");
  await page.check("input[name=choice][value='0']");
  await page.click("#vote-form button[type=submit]");
  await page.waitForSelector("#vote-result[data-state=done]", { timeout: 30_000 });
  await page.waitForSelector("#ballot-counted", { timeout: 60_000 });
  assert.equal(await page.getAttribute("#vote-result", "data-counted"), "true");
  const counted = await page.evaluate((id) => window.dauys.state().present.referendums.find((r) => r.id === id).secret.ballots_counted, referendum);
  assert.equal(counted, 1);
  await everyLanguage(page, "vote-counted", "en");

  // My acts: four receipts; the log grows; each is re-checked against the
  // latest checkpoint (a consistency proof from a few tiles).
  for (let i = 0; i < 3; i++) {
    const other = dauys("keygen", "--out", join(demo.scratch, `later-${i}.key`)).trim();
    dauys("enroll", "--node", url, "--key", join(keys, "commission.key"), other);
  }
  await page.goto(url + "/#/acts");
  await page.waitForSelector("#recheck-btn");
  await page.click("#recheck-btn");
  await page.waitForSelector("#recheck-result[data-done=true]", { timeout: 30_000 });
  const states = await page.$$eval(".acts li", (items) => items.map((li) => li.dataset.state));
  assert.deepEqual(states, ["ok", "ok", "ok", "ok"], await page.textContent("#acts-panel"));
  const checked = await page.evaluate(() => JSON.parse(localStorage.getItem("dauys.acts")).map((a) => a.checked_size));
  const latest = JSON.parse(dauys("verify", "--json", url)).summary.size;
  assert.ok(checked.every((n) => n >= latest - 1), `re-checked against the latest checkpoint: ${checked} vs ${latest}`);
  await everyLanguage(page, "acts-rechecked", "en");

  // "Find my act" never takes a secret: a pasted key file or bare secret is
  // refused and cleared, never searched for.
  await page.goto(url + "/#/");
  for (const secret of [readFileSync(keyFile, "utf8"), seedHex]) {
    await page.fill("#find", secret);
    await page.click("#find-form button[type=submit]");
    await page.waitForSelector("#found [role=alert]");
    assert.equal(await page.inputValue("#find"), "");
    await page.evaluate(() => { document.getElementById("found").innerHTML = ""; });
  }
  await page.setInputFiles("#find-keyfile", keyFile);
  await page.waitForSelector("#found li");
  assert.equal(await page.inputValue("#find"), publicKey);
  await everyLanguage(page, "find-by-key-file", "en");

  // The secret appears nowhere but locked: no request or URL, no node log
  // line, no storage entry.
  const storage = await page.evaluate(() => Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)])));
  const session = await page.evaluate(() => JSON.stringify(Object.fromEntries(Object.keys(sessionStorage).map((k) => [k, sessionStorage.getItem(k)]))));
  const cookies = JSON.stringify(await context.cookies());
  const places = { requests: sent.join("\n"), "node log": demo.log(), session, cookies, ...storage };
  for (const [where, text] of Object.entries(places)) {
    for (const form of [seedHex, seedB64, seedB64Url]) assert.ok(!text.includes(form), `the secret appears in ${where}`);
  }
  assert.equal(JSON.parse(storage["dauys.key"]).public_key, publicKey, "the locked key is stored");
  assert.ok(sent.some((r) => r.includes("/v1/events")), "acts were sent");
  assert.deepEqual(errors, []);
  await context.close();
});
