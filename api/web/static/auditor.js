// The integrity verification: the API checks every entry, the tree, the signed heads and their
// anchors on chain; the page shows its conclusion and each finding where the log was changed.
"use strict";
(() => {
  const { text, say } = Page;

  // A filter left empty is no filter: leave it out of the address (the API refuses "").
  document.querySelector("form.filters").addEventListener("submit", (event) => {
    event.target.querySelectorAll("input, select").forEach((field) => {
      if (!field.value) field.disabled = true;
    });
  });
  document.getElementById("run-verify").addEventListener("click", async () => {
    say(text.working);
    try {
      const report = await Page.post("/audit/verify");
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
      say("");
    } catch (error) {
      say(Page.reason(error));
    }
  });
})();
