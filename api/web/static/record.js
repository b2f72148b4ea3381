// A record checked against the chain as any verifier would: the public /verify gets the
// document and its Merkle proof and answers each check.
"use strict";
(() => {
  const text = JSON.parse(document.getElementById("messages").textContent);
  const credential = JSON.parse(document.getElementById("credential").textContent);
  const status = document.getElementById("status");
  document.getElementById("run-verify").addEventListener("click", async () => {
    status.textContent = text.working;
    try {
      const body = { document: credential.document };
      if (credential.proof) body.proof = credential.proof;
      const response = await fetch("/verify", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const verdict = await response.json();
      if (!response.ok) throw new Error(verdict.detail || verdict.title || response.statusText);
      status.textContent = verdict.valid ? text.valid : text.invalid;
      status.className = verdict.valid ? "status-line verdict ok" : "status-line verdict bad";
      const list = document.getElementById("checks");
      list.textContent = "";
      for (const check of verdict.checks) {
        const li = document.createElement("li");
        li.className = check.passed ? "check ok" : "check bad";
        li.dataset.check = check.name;
        li.textContent = `${check.passed ? text.passed : text.failed} · ${check.name}: ${check.reason}`;
        list.appendChild(li);
      }
    } catch (error) {
      status.textContent = error.message;
    }
  });
})();
