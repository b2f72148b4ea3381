// 扫码亮证: the chosen fields, prepared by the vault, signed here with the holder's key, shown
// as a QR code that counts down to its expiry.
"use strict";
(() => {
  const text = JSON.parse(document.getElementById("messages").textContent);
  const status = document.getElementById("status");
  const say = (message) => { status.textContent = message; };
  const form = document.getElementById("show");

  async function api(url, body, raw) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      throw new Error(answer.detail || answer.title || response.statusText);
    }
    return raw ? response.blob() : response.json();
  }

  async function unlock(password) {
    for (const k of Wallet.list()) {
      try {
        return await Wallet.unlock(k.address, password);
      } catch (_) { /* not this one */ }
    }
    throw new Error(Wallet.list().length ? text.badpassword : text.nokey);
  }

  let timer = null;
  function countdown(expiresAt) {
    const left = document.getElementById("left");
    const code = document.getElementById("code");
    clearInterval(timer);
    const tick = () => {
      const seconds = expiresAt - Math.floor(Date.now() / 1000);
      if (seconds <= 0) {
        clearInterval(timer);
        left.textContent = text.expired;
        code.classList.add("expired");
        return;
      }
      left.textContent = text.left.replace("{m}", Math.floor(seconds / 60)).replace("{s}", String(seconds % 60).padStart(2, "0"));
    };
    tick();
    timer = setInterval(tick, 1000);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(text.working);
    try {
      const fields = [...form.querySelectorAll("input[name=field]:checked")].map((c) => c.value);
      const prepared = await api("/me/presentations", {
        record_id: form.dataset.record, fields, ttl: Number(document.getElementById("ttl").value),
      });
      const wallet = await unlock(document.getElementById("show-password").value);
      const typed = prepared.typed_data;
      const types = { ...typed.types };
      delete types.EIP712Domain;
      const signature = await wallet.signTypedData(typed.domain, types, typed.message);
      const signed = await api("/me/presentations/sign", { unsigned: prepared.unsigned, signature });
      const image = await api("/me/presentations/qr", { text: signed.text, format: "png", scale: 6 }, true);
      const code = document.getElementById("code");
      code.classList.remove("expired");
      code.src = URL.createObjectURL(image);
      document.getElementById("shown").hidden = false;
      countdown(signed.expires_at);
      say("");
    } catch (error) {
      say(error.message);
    }
  });
})();
