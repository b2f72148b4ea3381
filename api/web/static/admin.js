// The admin's changes go through the JSON API; the page reloads to show the roster as it is.
"use strict";
(() => {
  const { text, say } = Page;

  async function change(url, body) {
    say(text.working);
    try {
      await Page.post(url, body);
      window.location.reload();
    } catch (error) {
      say(Page.reason(error));
    }
  }

  document.getElementById("add-department").addEventListener("submit", (event) => {
    event.preventDefault();
    const roles = [...event.target.querySelectorAll("input[name=role]:checked")].map((c) => c.value);
    if (!roles.length) return say(text.noroles);
    const licence = document.getElementById("d-licence").value.trim();
    change("/departments", {
      code: document.getElementById("d-code").value.trim(),
      name: document.getElementById("d-name").value.trim(),
      roles,
      auth_address: document.getElementById("d-address").value.trim(),
      kind: document.getElementById("d-kind").value,
      ...(licence ? { licence_number: licence } : {}),
    });
  });

  document.getElementById("add-auditor").addEventListener("submit", (event) => {
    event.preventDefault();
    change("/auditors", {
      name: document.getElementById("a-name").value.trim(),
      address: document.getElementById("a-address").value.trim(),
    });
  });

  document.querySelectorAll("button.toggle").forEach((button) => {
    button.addEventListener("click", () => change(`/departments/${button.dataset.code}/${button.dataset.action}`));
  });
})();
