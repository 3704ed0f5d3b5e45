// The citizens' portal when someone misbehaves: hostile ledger content
// (HTML in a district's name, a petition's title), a node forging its
// answers, a log whose checkpoint does not check out, a secret referendum
// whose trustees never held their ceremony, a log rewritten after the
// citizen's act, a broken mirror, and witnesses required for receipts.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { artifacts, launch, serve, startDemo } from "./harness.js";

const PHONE = { viewport: { width: 360, height: 780 }, isMobile: true, hasTouch: true };
const DAY = 86_400_000;
const cleanup = [];
after(async () => { for (const stop of cleanup.reverse()) await stop(); });

const verified = (page) => page.waitForSelector("#state-line[data-state=valid], #state-line[data-state=invalid]", { timeout: 60_000 });

// A context whose pages record every Content-Security-Policy violation.
async function phone(browser, init) {
  const context = await browser.newContext(PHONE);
  await context.addInitScript(() => {
    window.violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.violations.push(e.violatedDirective));
  });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  return { context, page };
}

// Restores a command-line key file into the page's "My key".
async function restore(page, url, keyFile) {
  await page.goto(url + "/#/key");
  await page.selectOption("#lang", "en");
  await page.waitForSelector("#restore-form");
  await page.setInputFiles("#restore-file", keyFile);
  await page.fill("#restore-pass", "a long passphrase");
  await page.click("#restore-form button[type=submit]");
  await page.waitForSelector("#public-key");
}

// The petition of `title` in the page's verified state.
const petitionId = (page, title) => page.evaluate((title) => window.dauys.state().present.petitions.find((p) => p.title === title).id, title);

async function support(page, url, id) {
  await page.goto(url + "/#/petition/" + id);
  await page.waitForSelector("#support-btn");
  await page.click("#support-btn");
}

test("hostile content, forged answers and an unchecked log cannot make the page misbehave", async () => {
  const demo = await startDemo();
  cleanup.push(demo.stop);
  const browser = await launch();
  cleanup.push(() => browser.close());
  const { dauys, url, keys } = demo;
  const key = (n) => join(keys, `voter-${n}.key`);
  // A district label and a petition title carrying HTML.
  const keyFile = join(demo.scratch, "citizen.key");
  const publicKey = dauys("keygen", "--out", keyFile).trim();
  const district = "<img src=x onerror=window.__xss=1>";
  dauys("enroll", "--node", url, "--key", join(keys, "commission.key"), "--district", district, publicKey);
  const title = "<img src=x onerror=window.__xss=2> A school garden";
  const filed = JSON.parse(dauys("petition", "file", "--node", url, "--key", key(15), "--subject", "education", "--title", title, "--text", "Beds and a greenhouse behind school No. 2."));
  for (let n = 16; n <= 20; n++) dauys("petition", "support", "--node", url, "--key", key(n), filed.entry_hash);
  dauys("council", "rule", "--node", url, "--key", join(keys, "council.key"), filed.entry_hash, "--decision", "reject", "--reasons", "Not this year.");
  // A secret referendum whose trustees never hold the key ceremony.
  const opens = Date.now() + 5_000;
  const call = ["referendum", "call", "--node", url, "--key", join(keys, "commission.key"), filed.entry_hash, "--subject", "education",
    "--question", "Should the school get a garden?", "--opens-at-ms", String(opens), "--window-ms", String(DAY), "--threshold", "2"];
  for (let n = 0; n < 3; n++) call.push("--trustee", dauys("key", "public", join(keys, `trustee-${n}.key`)).trim());
  const referendum = JSON.parse(dauys(...call)).entry_hash;

  const { context, page } = await phone(browser);
  const posted = [];
  page.on("request", (r) => { if (r.method() === "POST") posted.push(r.postData()); });
  await restore(page, url, keyFile);
  await verified(page);
  // The district is shown as text; no script ran.
  await page.waitForSelector("#enrolment[data-enrolled=true]");
  assert.match(await page.textContent("#enrolment"), /<img src=x onerror=window.__xss=1>/);
  await page.goto(url + "/#/petitions");
  await page.waitForSelector("#petitions .item");
  assert.ok((await page.textContent("#petitions")).includes(title));
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  // Even HTML that does get into the page runs no script: the policy blocks it.
  await page.evaluate(() => document.body.insertAdjacentHTML("beforeend", '<img src="x" onerror="window.__xss=3">'));
  await page.waitForFunction(() => window.violations.some((d) => d.startsWith("script-src")));
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.screenshot({ path: join(artifacts, "portal-hostile-title.png"), fullPage: true });

  // The ceremony never happened: no ballot form, nothing signed.
  posted.length = 0;
  await page.waitForTimeout(Math.max(0, opens - Date.now() + 300));
  await page.evaluate(() => window.dauys.verify());
  await page.goto(url + "/#/vote/" + referendum);
  await page.waitForFunction(() => /voting open/.test(document.getElementById("vote-panel").textContent));
  assert.match(await page.textContent("#vote-panel"), /key ceremony is not complete/);
  assert.equal(await page.locator("#vote-form").count(), 0);
  assert.deepEqual(posted, [], "nothing was sent");

  // A node that forges "stale nonce, the last was 2^64 - 2": the page takes
  // the nonce from its own replay, not from the answer.
  let forged = false;
  await page.route(url + "/v1/events", async (route) => {
    if (forged) return route.continue();
    forged = true;
    await route.fulfill({ status: 422, contentType: "application/json", body: JSON.stringify({ code: "stale_nonce", message: "stale", details: { last: "18446744073709551614" } }) });
  });
  const river = await petitionId(page, "Өзен жағасына ағаш отырғызу");
  posted.length = 0;
  await support(page, url, river);
  await page.waitForSelector("#act-result[data-state=done]", { timeout: 60_000 });
  assert.equal(posted.length, 2, "one forged refusal, one retry");
  const nonces = posted.map((body) => Buffer.from(JSON.parse(body).payload, "base64").readBigUInt64BE(8 + 2 + 32 + 1));
  const now = BigInt(Date.now()) * 1000n;
  for (const nonce of nonces) assert.ok(nonce > now - 3_600_000_000n && nonce < now + 3_600_000_000n, `a nonce from this device's clock: ${nonce}`);
  await page.unroute(url + "/v1/events");

  // A log whose checkpoint does not check out (a fork this browser saw):
  // the page sends no act to it.
  const logKey = dauys("log-key", url).trim();
  await page.evaluate((key) => localStorage.setItem("dauys.seen", JSON.stringify({ [key]: { size: 3, root: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" } })), logKey);
  await page.reload();
  await page.waitForSelector("#state-line[data-state=invalid]", { timeout: 60_000 });
  posted.length = 0;
  await page.goto(url + "/#/file");
  await page.waitForSelector("#file-form");
  await page.selectOption("#file-subject", "culture");
  await page.fill("#file-title", "A summer concert");
  await page.fill("#file-text", "In the park, in July.");
  await page.click("#file-send");
  await page.waitForSelector("#file-result[data-state=error]");
  assert.match(await page.textContent("#file-result"), /checkpoint did not check out/);
  assert.equal(posted.length, 0, "nothing sent to a log that did not check out");
  await context.close();
});

test("a rewritten log is flagged in My acts; a broken mirror is not called a fork", async () => {
  const demo = await startDemo();
  const browser = await launch();
  cleanup.push(() => browser.close());
  const { dauys, keys } = demo;
  await demo.stop();
  // Two copies of one log (same log key), which will disagree from here on.
  const other = join(demo.scratch, "fork");
  cpSync(demo.data, other, { recursive: true });
  const a = await serve(["serve", "--data", demo.data, "--listen", "127.0.0.1:0"]);
  const b = await serve(["serve", "--data", other, "--listen", "127.0.0.1:0"]);
  cleanup.push(a.stop, b.stop);
  const { context, page } = await phone(browser);
  await restore(page, a.url, join(keys, "voter-30.key"));
  await verified(page);
  const river = await petitionId(page, "Өзен жағасына ағаш отырғызу");
  await support(page, a.url, river);
  await page.waitForSelector("#act-result[data-state=done]", { timeout: 60_000 });
  // The other copy takes another act at the same position.
  dauys("petition", "support", "--node", b.url, "--key", join(keys, "voter-31.key"), river);
  const recheck = async (base) => {
    await page.evaluate((base) => {
      const acts = JSON.parse(localStorage.getItem("dauys.acts"));
      for (const act of acts) act.base = base;
      localStorage.setItem("dauys.acts", JSON.stringify(acts));
    }, base);
    await page.goto(a.url + "/#/acts");
    await page.waitForSelector("#recheck-btn");
    await page.click("#recheck-btn");
    await page.waitForSelector("#recheck-result[data-done=true]", { timeout: 30_000 });
    return { states: await page.$$eval(".acts li", (items) => items.map((li) => li.dataset.state)), text: await page.textContent("#recheck-result") };
  };
  let result = await recheck(a.url);
  assert.deepEqual(result.states, ["ok"], result.text);
  // The same operator now serves the other history.
  result = await recheck(b.url);
  assert.deepEqual(result.states, ["vanished"], result.text);
  assert.match(result.text, /VANISHED/);
  await page.screenshot({ path: join(artifacts, "portal-act-vanished.png"), fullPage: true });
  // A mirror serving garbage proves nothing either way.
  const junk = createServer((req, res) => { res.writeHead(200, { "Access-Control-Allow-Origin": "*" }); res.end("not a checkpoint\n"); });
  await new Promise((r) => junk.listen(0, "127.0.0.1", r));
  cleanup.push(() => new Promise((r) => junk.close(r)));
  result = await recheck(`http://127.0.0.1:${junk.address().port}`);
  assert.deepEqual(result.states, ["unchecked"], result.text);
  assert.doesNotMatch(result.text, /VANISHED/);
  await context.close();
});

test("with a witness required, a receipt counts once the witness cosigned a checkpoint that holds it", async () => {
  const demo = await startDemo();
  const browser = await launch();
  cleanup.push(() => browser.close());
  const { dauys, keys } = demo;
  const logKey = dauys("log-key", demo.url).trim();
  await demo.stop();
  const wdir = join(demo.scratch, "witness");
  const witnessKey = dauys("witness", "init", "--data", wdir, "--name", "witness.example/w1").trim();
  appendFileSync(join(wdir, "witness.toml"), `[[log]]\norigin = "${logKey.split("+")[0]}"\nkey = "${logKey}"\n`);
  const witness = await serve(["witness", "serve", "--data", wdir, "--listen", "127.0.0.1:0"]);
  const policy = join(demo.scratch, "witnesses.toml");
  writeFileSync(policy, `quorum = 1\n[[witness]]\nurl = "${witness.url}"\nkey = "${witnessKey}"\n`);
  const node = await serve(["serve", "--data", demo.data, "--listen", "127.0.0.1:0", "--witnesses", policy]);
  cleanup.push(witness.stop, node.stop);
  // The node serves a checkpoint once the witness has cosigned one.
  for (let i = 0; i < 100 && (await fetch(node.url + "/tlog/checkpoint")).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  const { context, page } = await phone(browser, `localStorage.setItem("dauys.witnesses", ${JSON.stringify(witnessKey)}); localStorage.setItem("dauys.quorum", "1");`);
  await restore(page, node.url, join(keys, "voter-32.key"));
  await verified(page);
  await page.goto(node.url + "/#/");
  await page.waitForSelector("#checkpoint");
  assert.equal(await page.getAttribute("#checkpoint", "data-ok"), "true", await page.textContent("#checkpoint"));
  assert.match(await page.textContent("#checkpoint"), /cosigned by witness\.example\/w1/);
  const river = await petitionId(page, "Өзен жағасына ағаш отырғызу");
  // The witness is away: the node records the act and answers with a
  // receipt, but serves no checkpoint holding it. The act is "pending".
  await witness.stop();
  await support(page, node.url, river);
  await page.waitForSelector("#act-result[data-state=done]", { timeout: 60_000 });
  await page.waitForFunction(() => /witnesses have not cosigned/.test((document.getElementById("act-result") || {}).textContent));
  await page.goto(node.url + "/#/acts");
  await page.waitForSelector("#recheck-btn");
  await page.click("#recheck-btn");
  await page.waitForSelector("#recheck-result[data-done=true]", { timeout: 30_000 });
  assert.deepEqual(await page.$$eval(".acts li", (items) => items.map((li) => li.dataset.state)), ["pending"]);
  // The witness is back (same address): it cosigns, and the act is "in the log".
  const back = await serve(["witness", "serve", "--data", wdir, "--listen", new URL(witness.url).host]);
  cleanup.push(back.stop);
  let states = [];
  for (let i = 0; i < 20 && states[0] !== "ok"; i++) {
    await page.goto(node.url + "/#/acts");
    await page.waitForSelector("#recheck-btn");
    await page.click("#recheck-btn");
    await page.waitForSelector("#recheck-result[data-done=true]", { timeout: 30_000 });
    states = await page.$$eval(".acts li", (items) => items.map((li) => li.dataset.state));
    if (states[0] !== "ok") await page.waitForTimeout(500);
  }
  assert.deepEqual(states, ["ok"]);
  await context.close();
});
