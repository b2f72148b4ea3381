// Enrolment at the counter: the person's address (shown on their phone as a QR code) and
// their ID number or credit code; the vault keeps only a keyed hash of the number.
"use strict";
(() => {
  const { text, say } = Page;
  const form = document.getElementById("enrol");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(text.working);
    const body = {
      kind: form.querySelector("input[name=kind]:checked").value,
      identifier: document.getElementById("identifier").value.trim(),
      name: document.getElementById("name").value.trim(),
      address: document.getElementById("address").value.trim(),
    };
    try {
      const answer = await Page.post("/subjects", body);
      form.reset();
      const done = document.getElementById("enrolled");
      done.textContent = text.done.replace("{name}", answer.name || body.name).replace("{address}", answer.address);
      done.hidden = false;
      say("");
    } catch (error) {
      say(error.message);
    }
  });
})();
