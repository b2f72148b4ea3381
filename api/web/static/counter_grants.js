// Reading under a grant: the API discloses exactly the granted fields of the subject's
// records, counts the use and logs the access, which the subject then sees.
"use strict";
(() => {
  const text = JSON.parse(document.getElementById("messages").textContent);
  const status = document.getElementById("status");
  document.querySelectorAll("button.read").forEach((button) => {
    button.addEventListener("click", async () => {
      status.textContent = text.working;
      const card = button.closest("li");
      try {
        const response = await fetch(`/grants/${button.dataset.grant}/read`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: "{}",
          credentials: "same-origin",
        });
        const answer = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(answer.detail || answer.title || response.statusText);
        const box = card.querySelector(".disclosed");
        box.textContent = "";
        if (!answer.records.length) box.textContent = text.nothing;
        for (const record of answer.records) {
          const h = document.createElement("h3");
          h.textContent = record.title;
          const dl = document.createElement("dl");
          for (const [name, value] of Object.entries(record.fields)) {
            const row = document.createElement("div");
            const dt = document.createElement("dt");
            const dd = document.createElement("dd");
            dt.textContent = name;
            dd.textContent = typeof value === "string" ? value : JSON.stringify(value);
            row.append(dt, dd);
            dl.appendChild(row);
          }
          box.append(h, dl);
        }
        box.hidden = false;
        status.textContent = "";
      } catch (error) {
        status.textContent = error.message;
      }
    });
  });
})();
