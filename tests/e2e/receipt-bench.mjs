// Browser benchmark (not a test): "check my receipt" in headless Chromium
// against a running node: the receipt checked on the device, then the
// tiles fetched to prove the node's latest checkpoint extends it.
// Usage: node tests/e2e/receipt-bench.mjs URL RECEIPT_FILE [RUNS]
import { chromium } from "playwright-core";

const [url, receipt, runs = "5"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const times = [];
for (let run = 0; run < Number(runs); run++) {
  const page = await browser.newPage();
  const requests = [];
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(url + "/#receipt");
  await page.waitForFunction(() => window.dauys !== undefined);
  requests.length = 0;
  await page.setInputFiles("#receipt-file", receipt);
  const started = Date.now();
  await page.click("#receipt-form button");
  await page.waitForSelector("#receipt-result[data-state=ok], #receipt-result[data-state=bad], #receipt-result[data-state=pending]", { timeout: 60_000 });
  const ms = Date.now() - started;
  const state = await page.getAttribute("#receipt-result", "data-state");
  const tiles = Number(await page.getAttribute("#receipt-result", "data-tiles"));
  const exported = requests.filter((p) => p === "/v1/export").length;
  times.push(ms);
  console.log(`run ${run + 1}: ${state} in ${ms} ms, ${tiles} tiles fetched, ${requests.length} requests (export: ${exported})`);
  await page.close();
}
times.sort((a, b) => a - b);
console.log(`median ${times[Math.floor(times.length / 2)]} ms over ${times.length} runs (click to verdict, tiles over loopback)`);
await browser.close();
