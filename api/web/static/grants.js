// Grants: the terms shown in plain words, prepared by the vault, signed here with the person's
// key (EIP-712), sent back; revocation the same way. Calls go to the JSON API with the
// session cookie, so the rules are the API's.
"use strict";
(() => {
  const { text, say } = Page;
  const api = Page.post;
  const sign = Wallet.signTyped;
  const SAID = "grants.said"; // a message to say once after the page reloads

  const once = sessionStorage.getItem(SAID);
  if (once) {
    sessionStorage.removeItem(SAID);
    say(once);
  }

  // An empty password is named beside its field, before any key is opened.
  function password(id) {
    const input = document.getElementById(id);
    const box = document.getElementById(`${id}-error`);
    box.textContent = "";
    input.removeAttribute("aria-invalid");
    if (input.value) return input.value;
    box.textContent = text.nopassword;
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return null;
  }

  const form = document.getElementById("grant");
  if (form) {
    const chosen = () => [...form.querySelectorAll("input[name=field]:checked")];
    // "…读取你的 机动车驾驶证、居民身份证 中的：姓名…，用于：…": the person's own credentials
    // of the chosen types, by their titles (the type's name where a title is missing).
    const covered = (fields) => {
      const names = [];
      for (const type of new Set(fields.map((c) => c.dataset.type))) {
        const titles = (text.titles || {})[type] || [];
        for (const title of titles.length ? titles : [text.types[type] || type]) {
          if (!names.includes(title)) names.push(title);
        }
      }
      return names.join("、");
    };
    const purpose = () => {
      const words = form.querySelector("#purpose").value.trim();
      const code = form.querySelector("#purpose-code");
      return words || code.options[code.selectedIndex].text;
    };
    const summary = () => {
      const fields = chosen();
      const grantee = form.querySelector("#grantee");
      const values = {
        grantee: grantee.options[grantee.selectedIndex].text,
        records: covered(fields),
        fields: fields.map((c) => c.value).join("、"),
        days: form.querySelector("#days").value,
        uses: form.querySelector("#uses").value,
        purpose: purpose(),
      };
      document.getElementById("summary").textContent = fields.length
        ? text.summary.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "")
        : "";
    };
    form.addEventListener("input", summary);
    form.addEventListener("change", summary);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = chosen();
      if (!fields.length) return say(text.nofields);
      const secret = password("grant-password");
      if (secret === null) return;
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
        const signature = await sign(typed, secret);
        await api("/me/grants", { message: typed.message, signature });
        say(text.done);
        sessionStorage.setItem(SAID, text.done);
        window.location.assign(window.location.pathname); // the first page: the new grant on top
      } catch (error) {
        say(Page.reason(error));
      }
    });
  }

  // Revoking: the button asks once ("确认撤销"), the second press revokes; Esc or leaving the
  // button takes the question back. The card then says so in place: no reload, nothing lost.
  document.querySelectorAll("button.revoke").forEach((button) => {
    const label = button.innerHTML;
    const reset = () => {
      delete button.dataset.confirming;
      button.innerHTML = label;
    };
    button.addEventListener("blur", reset);
    button.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && button.dataset.confirming) {
        event.stopPropagation();
        reset();
      }
    });
    button.addEventListener("click", async () => {
      if (!button.dataset.confirming) {
        if (password("revoke-password") === null) return;
        button.dataset.confirming = "1";
        button.textContent = text.confirm;
        return;
      }
      const secret = password("revoke-password");
      if (secret === null) return reset();
      const id = button.dataset.grant;
      const card = button.closest("li");
      say(text.working);
      try {
        const { typed_data: typed } = await api(`/me/grants/${id}/revoke/prepare`, {});
        const signature = await sign(typed, secret);
        await api(`/me/grants/${id}/revoke`, { signature });
        const badge = card.querySelector(".status");
        badge.textContent = text.revokedstatus;
        badge.className = "status grant-revoked";
        const done = card.querySelector(".done");
        done.textContent = text.revoked;
        done.hidden = false;
        button.remove();
        say(text.revoked);
      } catch (error) {
        reset();
        say(Page.reason(error));
      }
    });
  });
})();
