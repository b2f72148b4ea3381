// 代为办理: an agent or guardian gives or revokes a grant for the subject it acts for. The terms
// are shown as a sentence, prepared by the vault (/subjects/{id}/grants/prepare, which refuses
// what the delegation does not cover), signed here with the delegate's own key (EIP-712) and
// sent back. Calls go to the JSON API with the session cookie, so the rules are the API's.
"use strict";
(() => {
  const { text, say } = Page;
  const api = Page.post;
  const sign = Wallet.signTyped;
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
  const day = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);

  // Where a refusal naming a field of the request is shown: beside that control.
  const FIELD_ERRORS = {
    grantee: "grantee-error",
    fields: "fields-error",
    record_types: "fields-error",
    purpose: "purpose-error",
    purpose_code: "purpose-error",
    expires_at: "days-error",
    max_uses: "uses-error",
  };

  const subject = document.getElementById("given").dataset.subject;
  const form = document.getElementById("grant");
  if (form) {
    const until = Number(form.dataset.until); // the delegation's end: no grant outlives it
    const value = (id) => form.querySelector(`#${id}`).value;
    const chosen = () => [...form.querySelectorAll("input[name=field]:checked")];
    const expiry = () => Math.min(Math.floor(Date.now() / 1000) + Number(value("days")) * 86400, until);
    const clear = () => form.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });

    const summary = () => {
      const fields = chosen().map((c) => c.value);
      const grantee = form.querySelector("#grantee");
      const code = form.querySelector("#purpose-code");
      document.getElementById("summary").textContent = fields.length
        ? fill(text.summary, {
            grantee: grantee.options[grantee.selectedIndex].text,
            name: text.name,
            fields: fields.join("、"),
            until: day(expiry()),
            uses: value("uses"),
            purpose: value("purpose").trim() || code.options[code.selectedIndex].text,
          })
        : "";
    };
    form.addEventListener("input", summary);
    form.addEventListener("change", summary);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear();
      const fields = chosen();
      if (!fields.length) {
        document.getElementById("fields-error").textContent = text.nofields;
        return;
      }
      say(text.working);
      try {
        const { typed_data: typed } = await api(`/subjects/${subject}/grants/prepare`, {
          grantee: value("grantee"),
          record_types: [...new Set(fields.map((c) => c.dataset.type))],
          fields: fields.map((c) => c.value),
          purpose_code: Number(value("purpose-code")),
          purpose: value("purpose"),
          expires_at: expiry(),
          max_uses: Number(value("uses")),
        });
        const signature = await sign(typed, value("grant-password"));
        await api(`/subjects/${subject}/grants`, { message: typed.message, signature });
        say(text.done);
        window.location.assign(window.location.pathname); // the first page: the new grant on top
      } catch (error) {
        const where = FIELD_ERRORS[error.answer && error.answer.field];
        if (where) {
          document.getElementById(where).textContent = Page.reason(error);
          say("");
        } else {
          say(Page.reason(error));
        }
      }
    });
  }

  document.querySelectorAll("button.revoke").forEach((button) => {
    button.addEventListener("click", async () => {
      const id = button.dataset.grant;
      say(text.working);
      try {
        const { typed_data: typed } = await api(`/subjects/${subject}/grants/${id}/revoke/prepare`, {});
        const signature = await sign(typed, document.getElementById("revoke-password").value);
        const grant = await api(`/subjects/${subject}/grants/${id}/revoke`, { signature });
        // Revocation takes effect at once (deny wins): the list says so without a reload.
        const card = button.closest("li[data-grant]");
        const badge = card.querySelector(".status");
        badge.className = `status grant-${grant.status}`;
        badge.textContent = text.revokedstatus;
        button.remove();
        say(text.revoked);
      } catch (error) {
        say(Page.reason(error));
      }
    });
  });
})();
