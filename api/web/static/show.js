// 扫码亮证: the chosen fields, prepared by the vault, signed here with the holder's key, shown
// as a QR code that counts down to its expiry.
"use strict";
(() => {
  const { text, say, post } = Page;
  const form = document.getElementById("show");

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

  // One line saying what the counter will see and what it will not, as the boxes change.
  function sees() {
    const boxes = [...form.querySelectorAll("input[name=field]")];
    const shown = boxes.filter((b) => b.checked).map((b) => b.value);
    const hidden = boxes.filter((b) => !b.checked).map((b) => b.value);
    return text.sees
      .replace("{shown}", shown.length ? shown.join("、") : text.nothing)
      .replace("{hidden}", hidden.length ? hidden.join("、") : text.hidden);
  }
  const seesLine = document.getElementById("sees");
  form.addEventListener("change", () => { seesLine.textContent = sees(); });
  seesLine.textContent = sees();

  // While the code is shown, the screen shows nothing else (a counter's scanner, a queue).
  const shownBox = document.getElementById("shown");
  document.getElementById("refresh").addEventListener("click", () => form.requestSubmit());
  document.getElementById("change").addEventListener("click", () => {
    clearInterval(timer);
    shownBox.hidden = true;
    form.hidden = false;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(text.working);
    try {
      const fields = [...form.querySelectorAll("input[name=field]:checked")].map((c) => c.value);
      const prepared = await post("/me/presentations", {
        record_id: form.dataset.record, fields, ttl: Number(document.getElementById("ttl").value),
      });
      const signature = await Wallet.signTyped(prepared.typed_data, document.getElementById("show-password").value);
      const signed = await post("/me/presentations/sign", { unsigned: prepared.unsigned, signature });
      const image = await Page.call("/me/presentations/qr", { body: { text: signed.text, format: "png", scale: 6 }, as: "blob" });
      const code = document.getElementById("code");
      code.classList.remove("expired");
      code.src = URL.createObjectURL(image);
      document.getElementById("shown-sees").textContent = sees();
      shownBox.hidden = false;
      form.hidden = true;
      countdown(signed.expires_at);
      say("");
    } catch (error) {
      say(Page.reason(error));
    }
  });
})();
