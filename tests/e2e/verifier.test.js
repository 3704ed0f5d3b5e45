// Browser end-to-end tests of the web verifier, in headless Chromium.
// Needs: DAUYS_BIN (the dauys binary with the page built in), Chromium at
// CHROMIUM (default /usr/bin/chromium). Screenshots go to artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const fixtures = join(root, "fixtures");
const artifacts = join(here, "artifacts");
mkdirSync(artifacts, { recursive: true });
const bin = process.env.DAUYS_BIN || join(root, "target", "debug", "dauys");
const expected = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8"));

let node, url, browser, scratch;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "dauys-browser-"));
  node = spawn(bin, ["demo", "--data", join(scratch, "demo"), "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  url = await new Promise((resolve, reject) => {
    let out = "";
    node.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/at (http:\/\/[^\s]+?)\/?\n/);
      if (m) resolve(m[1]);
    });
    node.on("exit", (code) => reject(new Error("node exited " + code)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"], // Playwright gives each launch a fresh profile directory
  });
});

after(async () => {
  if (browser) await browser.close();
  if (node) node.kill();
});

async function verdictOf(page) {
  await page.waitForSelector("#verdict[data-verdict=valid], #verdict[data-verdict=invalid], #verdict[data-verdict=error]", { timeout: 60_000 });
  return page.$eval("#verdict", (el) => ({ verdict: el.dataset.verdict, position: el.dataset.position, entries: el.dataset.entries, text: el.textContent }));
}

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
  await page.waitForSelector("#signed-head");
  assert.equal(await page.getAttribute("#signed-head", "data-ok"), "true");
  assert.equal(await page.getAttribute("#signed-head", "data-matches"), "true");
  assert.equal(await page.locator("#petitions .item").count(), cli.summary.petitions.length);
  assert.equal(await page.locator("#referendums svg").count(), cli.summary.referendums.length);
  await page.screenshot({ path: join(artifacts, "valid-en.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the language switch changes every label", async () => {
  const page = await browser.newPage();
  await page.goto(url + "/");
  await verdictOf(page);
  for (const [lang, heading, verdictWord] of [["kk", "Петициялар", "Дұрыс"], ["ru", "Петиции", "Верно"], ["en", "Petitions", "Valid"]]) {
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
  assert.match(await page.textContent("#found"), /petition_supported/);
  assert.match(await page.textContent("#found"), /Keep the village library open on Sundays/); // what it supports, by title
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
