// Enrolment at the counter: the person's address (shown on their phone as a QR code) and
// their ID number or credit code; the vault keeps only a keyed hash of the number.
"use strict";
(() => {
  const text = JSON.parse(document.getElementById("messages").textContent);
  const status = document.getElementById("status");
  const form = document.getElementById("enrol");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = text.working;
    const body = {
      kind: form.querySelector("input[name=kind]:checked").value,
      identifier: document.getElementById("identifier").value.trim(),
      name: document.getElementById("name").value.trim(),
      address: document.getElementById("address").value.trim(),
    };
    try {
      const response = await fetch("/subjects", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer.detail || answer.title || response.statusText);
      form.reset();
      const done = document.getElementById("enrolled");
      done.textContent = text.done.replace("{name}", answer.name || body.name).replace("{address}", answer.address);
      done.hidden = false;
      status.textContent = "";
    } catch (error) {
      status.textContent = error.message;
    }
  });
})();
