// Grants: the terms shown in plain words, prepared by the vault, signed here with the person's
// key (EIP-712), sent back; revocation the same way. Calls go to the JSON API with the
// session cookie, so the rules are the API's.
"use strict";
(() => {
  const { text, say } = Page;
  const api = Page.post;
  const sign = Wallet.signTyped;

  const form = document.getElementById("grant");
  if (form) {
    const chosen = () => [...form.querySelectorAll("input[name=field]:checked")];
    const summary = () => {
      const fields = chosen().map((c) => c.value);
      const grantee = form.querySelector("#grantee");
      document.getElementById("summary").textContent = fields.length
        ? text.summary
            .replace("{grantee}", grantee.options[grantee.selectedIndex].text)
            .replace("{fields}", fields.join("、"))
            .replace("{days}", form.querySelector("#days").value)
            .replace("{uses}", form.querySelector("#uses").value)
        : "";
    };
    form.addEventListener("input", summary);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = chosen();
      if (!fields.length) return say(text.nofields);
      say(text.working);
      try {
        const now = Math.floor(Date.now() / 1000);
        const { typed_data: typed } = await api("/me/grants/prepare", {
          grantee: form.querySelector("#grantee").value,
          record_types: [...new Set(fields.map((c) => c.dataset.type))],
          fields: fields.map((c) => c.value),
          purpose_code: Number(form.querySelector("#purpose-code").value),
          purpose: form.querySelector("#purpose").value,
          expires_at: now + Number(form.querySelector("#days").value) * 86400,
          max_uses: Number(form.querySelector("#uses").value),
        });
        const signature = await sign(typed, form.querySelector("#grant-password").value);
        await api("/me/grants", { message: typed.message, signature });
        say(text.done);
        window.location.reload();
      } catch (error) {
        say(Page.reason(error));
      }
    });
  }

  document.querySelectorAll("button.revoke").forEach((button) => {
    button.addEventListener("click", async () => {
      const id = button.dataset.grant;
      say(text.working);
      try {
        const { typed_data: typed } = await api(`/me/grants/${id}/revoke/prepare`, {});
        const signature = await sign(typed, document.getElementById("revoke-password").value);
        await api(`/me/grants/${id}/revoke`, { signature });
        say(text.revoked);
        window.location.reload();
      } catch (error) {
        say(Page.reason(error));
      }
    });
  });
})();
