// What the browser tests share: a demo node on a fresh data directory,
// headless Chromium, the dauys command line, and an axe-core check.
// Needs: DAUYS_BIN (the dauys binary with the page built in), Chromium at
// CHROMIUM (default /usr/bin/chromium).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..", "..");
export const fixtures = join(root, "fixtures");
export const artifacts = join(here, "artifacts");
mkdirSync(artifacts, { recursive: true });
export const bin = process.env.DAUYS_BIN || join(root, "target", "debug", "dauys");
export const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

// Runs `dauys ARGS...` as a server until it prints the URL it serves at:
// the URL, everything it logged, and `stop` (resolves once it exited).
export async function serve(args) {
  const server = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let logged = "";
  server.stderr.on("data", (d) => { logged += d; });
  const exited = new Promise((resolve) => server.on("exit", resolve));
  const url = await new Promise((resolve, reject) => {
    server.stdout.on("data", (d) => {
      logged += d;
      const m = logged.match(/at (http:\/\/[^\s]+?)\/?\n/);
      if (m) resolve(m[1]);
    });
    exited.then((code) => reject(new Error(`dauys ${args[0]} exited ${code}\n${logged}`)));
  });
  return { url, log: () => logged, stop: () => { server.kill(); return exited; } };
}

// A demo node on a fresh data directory: its URL, its scratch directory,
// everything it logged, and the command line pointed at it.
export async function startDemo() {
  const scratch = mkdtempSync(join(tmpdir(), "dauys-browser-"));
  const node = await serve(["demo", "--data", join(scratch, "demo"), "--listen", "127.0.0.1:0"]);
  const dauys = (...args) => execFileSync(bin, args, { encoding: "utf8", env: { ...process.env, XDG_STATE_HOME: scratch } });
  return { url: node.url, scratch, dauys, data: join(scratch, "demo"), keys: join(scratch, "demo", "demo-keys"), log: node.log, stop: node.stop };
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"], // Playwright gives each launch a fresh profile directory
  });
}

export async function verdictOf(page) {
  await page.waitForSelector("#verdict[data-verdict=valid], #verdict[data-verdict=invalid], #verdict[data-verdict=error]", { state: "attached", timeout: 60_000 });
  return page.$eval("#verdict", (el) => ({ verdict: el.dataset.verdict, position: el.dataset.position, entries: el.dataset.entries, text: el.textContent }));
}

// axe-core on the page as it is: the serious and critical violations.
export async function axeViolations(page) {
  // Evaluated through the DevTools protocol: the page's Content-Security-
  // Policy (rightly) refuses an injected <script>.
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.evaluate(readFileSync(axePath, "utf8"));
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
