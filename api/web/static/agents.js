// Agents (经办人): the terms prepared by the vault, shown as a sentence, signed here with the
// subject's key (EIP-712) and relayed to the chain; withdrawing one the same way.
"use strict";
(() => {
  const { text, say } = Page;
  const form = document.getElementById("appoint");
  const chosen = () => [...form.querySelectorAll("input[name=type]:checked")].map((c) => c.value);
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

  function summary() {
    const agent = document.getElementById("agent").value.trim();
    const types = chosen();
    document.getElementById("agent-summary").textContent =
      agent && types.length
        ? fill(text.summary, {
            agent,
            types: types.map((t) => text.types[t] || t).join("、"),
            days: document.getElementById("agent-days").value,
          })
        : "";
  }
  form.addEventListener("input", summary);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
    const agent = document.getElementById("agent").value.trim();
    const types = chosen();
    if (!/^0x[0-9a-fA-F]{40}$/.test(agent)) document.getElementById("agent-error").textContent = text.noaddress;
    if (!types.length) document.getElementById("types-error").textContent = text.notypes;
    if (!/^0x[0-9a-fA-F]{40}$/.test(agent) || !types.length) return;
    say(text.working);
    try {
      const now = Math.floor(Date.now() / 1000);
      const { typed_data: typed } = await Page.post("/me/delegations/prepare", {
        agent,
        record_types: types,
        expires_at: now + Number(document.getElementById("agent-days").value) * 86400,
      });
      const signature = await Wallet.signTyped(typed, document.getElementById("agent-password").value);
      await Page.post("/me/delegations", { message: typed.message, signature });
      window.location.assign(window.location.pathname); // the first page: the new one on top
    } catch (error) {
      const field = error.answer && error.answer.field;
      if (field === "agent") {
        document.getElementById("agent-error").textContent = Page.reason(error);
        say("");
      } else {
        say(Page.reason(error));
      }
    }
  });

  document.querySelectorAll("button.withdraw").forEach((button) => {
    button.addEventListener("click", async () => {
      const id = button.dataset.delegation;
      say(text.working);
      try {
        const { typed_data: typed } = await Page.post(`/me/delegations/${id}/revoke/prepare`);
        const signature = await Wallet.signTyped(typed, document.getElementById("withdraw-password").value);
        await Page.post(`/me/delegations/${id}/revoke`, { signature });
        window.location.reload();
      } catch (error) {
        say(Page.reason(error));
      }
    });
  });
})();
