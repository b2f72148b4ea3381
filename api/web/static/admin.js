// The admin's changes go through the JSON API; the page reloads to show the roster as it is.
"use strict";
(() => {
  const text = JSON.parse(document.getElementById("messages").textContent);
  const status = document.getElementById("status");

  async function api(url, body) {
    status.textContent = text.working;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body || {}),
        credentials: "same-origin",
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer.detail || answer.title || response.statusText);
      window.location.reload();
    } catch (error) {
      status.textContent = error.message;
    }
  }

  document.getElementById("add-department").addEventListener("submit", (event) => {
    event.preventDefault();
    const roles = [...event.target.querySelectorAll("input[name=role]:checked")].map((c) => c.value);
    if (!roles.length) { status.textContent = text.noroles; return; }
    api("/departments", {
      code: document.getElementById("d-code").value.trim(),
      name: document.getElementById("d-name").value.trim(),
      roles,
      auth_address: document.getElementById("d-address").value.trim(),
    });
  });

  document.getElementById("add-auditor").addEventListener("submit", (event) => {
    event.preventDefault();
    api("/auditors", {
      name: document.getElementById("a-name").value.trim(),
      address: document.getElementById("a-address").value.trim(),
    });
  });

  document.querySelectorAll("button.toggle").forEach((button) => {
    button.addEventListener("click", () => api(`/departments/${button.dataset.code}/${button.dataset.action}`));
  });
})();
