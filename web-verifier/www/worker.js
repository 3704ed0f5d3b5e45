// dauys verification worker. Runs after the wasm-bindgen glue (no-modules
// target) in a Blob worker. Two roles:
//  - "signatures": checkSignatures(batch) -> one verdict byte per line, and
//    checkBallots(batch, keys) -> one byte per line for secret ballots whose
//    proofs it checked against the election keys the coordinator published;
//  - "coordinator": the rule core, strictly in order, over batches and the
//    verdicts the signature workers computed; it publishes the election keys
//    it learns with each progress report, a snapshot of the state known so
//    far every second, and afterwards answers the page's questions about
//    the replayed ledger (find, screen, citizen, ...).
"use strict";
let role = null;
let verifier = null;
let lastSnapshot = 0;

// The state with statuses judged at the reader's clock `now`, each
// petition with its initiator's district.
function present(now) {
  const summary = JSON.parse(verifier.summaryAt(now));
  if (!summary) return null;
  for (const p of summary.petitions) {
    const citizen = JSON.parse(verifier.citizen(p.initiator));
    p.district = citizen.enrolled ? citizen.district : null;
  }
  return summary;
}

// What the page may ask once the ledger is replayed.
const ASK = {
  find: (query) => JSON.parse(verifier.find(query)),
  screen: (title, text) => JSON.parse(verifier.screen(title, text)),
  citizen: (key) => JSON.parse(verifier.citizen(key)),
  isKnownSecret: (query) => verifier.isKnownSecret(query),
  supportsByDay: (petition) => JSON.parse(verifier.supportsByDay(petition)),
  ballotKeys: () => verifier.ballotKeys(),
};

self.onmessage = (event) => {
  const msg = event.data;
  try {
    if (msg.type === "init") {
      wasm_bindgen.initSync({ module: msg.module });
      role = msg.role;
      if (role === "coordinator") verifier = new wasm_bindgen.Verifier();
      self.postMessage({ type: "ready" });
    } else if (msg.type === "sign") {
      const verdicts = wasm_bindgen.checkSignatures(msg.batch);
      const ballots = msg.keys ? wasm_bindgen.checkBallots(msg.batch, msg.keys) : new Uint8Array(0);
      self.postMessage({ type: "signed", id: msg.id, batch: msg.batch, verdicts, ballots },
        [msg.batch.buffer, verdicts.buffer, ballots.buffer]);
    } else if (msg.type === "check") {
      verifier.checkBatch(msg.batch, msg.verdicts, msg.ballots || new Uint8Array(0));
      self.postMessage({ type: "progress", id: msg.id, entries: verifier.entries(), keys: verifier.ballotKeys() });
      const now = Date.now();
      if (now - lastSnapshot > 1000) {
        lastSnapshot = now;
        self.postMessage({ type: "snapshot", summary: present(now) });
      }
    } else if (msg.type === "finish") {
      if (msg.partial > 0) throw verifier.truncated(msg.partial);
      const summary = JSON.parse(verifier.finish());
      self.postMessage({ type: "done", summary, present: present(msg.now), entries: verifier.entries() });
    } else if (msg.type === "checkHead") {
      self.postMessage({ type: "headChecked", ok: wasm_bindgen.checkHead(msg.json, msg.key) });
    } else if (msg.type === "want") {
      for (const size of msg.sizes) verifier.wantRoot(size);
    } else if (msg.type === "checkpoint") {
      const report = JSON.parse(verifier.checkCheckpoint(msg.note, msg.witnesses, msg.quorum, msg.seen));
      self.postMessage({ type: "checkpointChecked", report });
    } else if (msg.type === "ask") {
      let answer;
      try {
        if (!Object.prototype.hasOwnProperty.call(ASK, msg.method)) throw new Error("unknown question " + msg.method);
        answer = { type: "answer", id: msg.id, value: ASK[msg.method](...msg.args) };
      } catch (error) {
        answer = { type: "answer", id: msg.id, error: String(error && error.message || error) };
      }
      self.postMessage(answer);
    }
  } catch (error) {
    if (error && error.code) {
      self.postMessage({
        type: "failed", failure: JSON.parse(error.failure), entries: verifier ? verifier.entries() : 0,
        target: verifier ? verifier.failedTarget() : "", context: verifier ? JSON.parse(verifier.summaryAt(0)) : null,
      });
    } else {
      self.postMessage({ type: "error", message: String(error && error.message || error) });
    }
  }
};
