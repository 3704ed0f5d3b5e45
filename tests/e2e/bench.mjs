// Browser benchmark (not a test): verifies a large ledger in headless
// Chromium and measures, in the same run, the limit: raw wasm signature
// checks per second with every signature worker busy at once.
// Usage: DAUYS_BIN=target/release/dauys node tests/e2e/bench.mjs DATA_DIR
import { spawn, execSync } from "node:child_process";
import { chromium } from "playwright-core";

const data = process.argv[2];
const bin = process.env.DAUYS_BIN || "target/release/dauys";
const node = spawn(bin, ["serve", "--data", data, "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve) => {
  let out = "";
  node.stdout.on("data", (d) => { out += d; const m = out.match(/at (http:\/\/[^\s]+?)\/?\n/); if (m) resolve(m[1]); });
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const rendererRss = () => {
  try {
    const out = execSync("ps -C chromium -o rss=,args= | grep -- '--type=renderer' | awk '{s+=$1} END {print s}'", { encoding: "utf8" });
    return Number(out.trim()) || 0;
  } catch { return 0; }
};
const page = await browser.newPage();
await page.goto("about:blank");
const baseline = rendererRss();
let peak = 0;
const sampler = setInterval(() => { peak = Math.max(peak, rendererRss()); }, 100);
const started = Date.now();
await page.goto(url + "/");
await page.waitForSelector("#verdict[data-verdict=valid], #verdict[data-verdict=invalid]", { timeout: 600_000 });
const seconds = (Date.now() - started) / 1000;
const verdict = await page.$eval("#verdict", (el) => ({ verdict: el.dataset.verdict, entries: Number(el.dataset.entries) }));
clearInterval(sampler);
console.log(`verdict: ${verdict.verdict}, ${verdict.entries} entries in ${seconds.toFixed(1)} s (page load to verdict)`);
console.log(`peak RSS of Chromium renderer processes during verification: ${(peak / 1024).toFixed(0)} MiB (an about:blank tab: ${(baseline / 1024).toFixed(0)} MiB)`);
const workers = await page.evaluate(() => window.dauys.workers());
// Lines 1000..1700 of the export, read from the start of the stream only.
const reader = (await fetch(url + "/v1/export")).body.getReader();
let text = "";
while (text.split("\n").length < 1702) {
  const { value, done } = await reader.read();
  if (done) break;
  text += new TextDecoder().decode(value);
}
await reader.cancel();
const batch = text.split("\n").slice(1000, 1700).join("\n") + "\n";
// A ledger of secret ballots: the limit includes each ballot's proofs,
// checked against the election keys the page derived.
const keys = await page.evaluate(() => {
  const s = window.dauys.state().summary;
  const keys = {};
  for (const r of s.referendums) if (r.secret && r.secret.election_key) keys[r.id] = [r.secret.election_key, r.options.length];
  return Object.keys(keys).length ? JSON.stringify({ ledger_id: s.ledger_id, keys }) : null;
});
const limit = await page.evaluate(([b, w, k]) => window.dauys.rawRate(b, w, 5000, k), [batch, workers, keys]);
const single = await page.evaluate(([b, k]) => window.dauys.rawRate(b, 1, 5000, k), [batch, keys]);
const what = keys ? "signature and secret-ballot proof checks" : "signature checks";
console.log(`verified: ${(verdict.entries / seconds).toFixed(0)} entries/s with ${workers} signature workers`);
console.log(`limit: raw wasm ${what}, ${workers} workers at once: ${limit.toFixed(0)}/s; one worker: ${single.toFixed(0)}/s (x${workers} = ${(single * workers).toFixed(0)}/s)`);
console.log(`ratio to the concurrent limit: ${((verdict.entries / seconds / limit) * 100).toFixed(0)}%`);
await browser.close();
node.kill();
