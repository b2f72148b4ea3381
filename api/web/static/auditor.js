// The integrity verification: the API checks every entry, the tree, the signed heads and their
// anchors on chain; the page shows its conclusion and each finding where the log was changed.
"use strict";
(() => {
  const text = JSON.parse(document.getElementById("messages").textContent);
  const status = document.getElementById("status");

  // A filter left empty is no filter: leave it out of the address (the API refuses "").
  document.querySelector("form.filters").addEventListener("submit", (event) => {
    event.target.querySelectorAll("input, select").forEach((field) => {
      if (!field.value) field.disabled = true;
    });
  });
  document.getElementById("run-verify").addEventListener("click", async () => {
    status.textContent = text.working;
    try {
      const response = await fetch("/audit/verify", { method: "POST", credentials: "same-origin" });
      const report = await response.json();
      if (!response.ok) throw new Error(report.detail || report.title || response.statusText);
      const summary = document.getElementById("report-summary");
      summary.textContent = report.summary;
      summary.className = report.ok ? "verdict ok" : "verdict bad";
      summary.dataset.status = report.status;
      const list = document.getElementById("findings");
      list.textContent = "";
      for (const finding of report.findings || []) {
        const li = document.createElement("li");
        li.className = "check bad";
        li.textContent = `${finding.kind}${finding.seq === null || finding.seq === undefined ? "" : ` #${finding.seq}`}: ${finding.detail}`;
        list.appendChild(li);
      }
      document.getElementById("report").hidden = false;
      status.textContent = "";
    } catch (error) {
      status.textContent = error.message;
    }
  });
})();
