// dauys verification worker. Runs after the wasm-bindgen glue (no-modules
// target) in a Blob worker. Two roles:
//  - "signatures": checkSignatures(batch) -> one verdict byte per line, and
//    checkBallots(batch, keys) -> one byte per line for secret ballots whose
//    proofs it checked against the election keys the coordinator published;
//  - "coordinator": the rule core, strictly in order, over batches and the
//    verdicts the signature workers computed; it publishes the election keys
//    it learns with each progress report.
"use strict";
let role = null;
let verifier = null;

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
    } else if (msg.type === "finish") {
      let summary;
      if (msg.partial > 0) throw verifier.truncated(msg.partial);
      summary = JSON.parse(verifier.finish());
      self.postMessage({ type: "done", summary, entries: verifier.entries() });
    } else if (msg.type === "checkHead") {
      self.postMessage({ type: "headChecked", ok: wasm_bindgen.checkHead(msg.json, msg.key) });
    } else if (msg.type === "want") {
      for (const size of msg.sizes) verifier.wantRoot(size);
    } else if (msg.type === "checkpoint") {
      const report = JSON.parse(verifier.checkCheckpoint(msg.note, msg.witnesses, msg.quorum, msg.seen));
      self.postMessage({ type: "checkpointChecked", report });
    } else if (msg.type === "find") {
      self.postMessage({ type: "found", acts: JSON.parse(verifier.find(msg.query)) });
    }
  } catch (error) {
    if (error && error.code) {
      self.postMessage({ type: "failed", failure: JSON.parse(error.failure), entries: verifier ? verifier.entries() : 0 });
    } else {
      self.postMessage({ type: "error", message: String(error && error.message || error) });
    }
  }
};
