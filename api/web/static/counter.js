// The counter: a picture of a presentation's QR code goes to the vault, which reads and
// verifies it; every check comes back passed or failed, with its reason, in plain words.
"use strict";
(() => {
  const text = JSON.parse(document.getElementById("messages").textContent);
  const status = document.getElementById("status");
  const say = (message) => { status.textContent = message; };

  function pairs(dl, entries) {
    dl.textContent = "";
    for (const [name, value] of entries) {
      const row = document.createElement("div");
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = name;
      dd.textContent = typeof value === "string" ? value : JSON.stringify(value);
      row.append(dt, dd);
      dl.appendChild(row);
    }
  }

  document.getElementById("verify").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = document.getElementById("picture").files[0];
    if (!file) return;
    say(text.working);
    try {
      const response = await fetch("/presentations/verify/image", {
        method: "POST",
        headers: { "Content-Type": file.type || "image/png" },
        body: file,
        credentials: "same-origin",
      });
      const verdict = await response.json();
      if (!response.ok) throw new Error(verdict.detail || verdict.title || response.statusText);
      const heading = document.getElementById("verdict-h");
      heading.textContent = verdict.valid ? text.valid : text.invalid;
      heading.className = verdict.valid ? "verdict ok" : "verdict bad";
      const c = verdict.credential;
      pairs(document.getElementById("credential"), c ? [[text.title, c.title], [text.issuer, verdict.issuer_name || c.issuer_code]] : []);
      const disclosed = Object.entries(verdict.disclosed || {});
      pairs(document.getElementById("disclosed"), disclosed.length ? disclosed : [[text.none, ""]]);
      const list = document.getElementById("checks");
      list.textContent = "";
      for (const check of verdict.checks) {
        const li = document.createElement("li");
        li.className = check.passed ? "check ok" : "check bad";
        li.dataset.check = check.name;
        li.textContent = `${check.passed ? text.passed : text.failed} · ${text.checks[check.name] || check.name}: ${check.reason}`;
        list.appendChild(li);
      }
      document.getElementById("verdict").hidden = false;
      say("");
    } catch (error) {
      say(error.message);
    }
  });
})();
