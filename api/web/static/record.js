// A record checked against the chain as any verifier would: the public /verify gets the
// document and its Merkle proof and answers each check.
"use strict";
(() => {
  const { text, say } = Page;
  const credential = JSON.parse(document.getElementById("credential").textContent);
  const status = document.getElementById("status");
  document.getElementById("run-verify").addEventListener("click", async () => {
    say(text.working);
    status.className = "status-line";
    try {
      const body = { document: credential.document };
      if (credential.proof) body.proof = credential.proof;
      const verdict = await Page.post("/verify", body);
      say(verdict.valid ? text.valid : text.invalid);
      status.className = verdict.valid ? "status-line verdict ok" : "status-line verdict bad";
      Page.checks(document.getElementById("checks"), verdict.checks);
    } catch (error) {
      say(Page.reason(error));
    }
  });
})();
