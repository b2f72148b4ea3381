// Put a demo person's keystore file into this browser, as if the person had imported it.
"use strict";
(() => {
  const text = JSON.parse(document.getElementById("messages").textContent);
  const status = document.getElementById("status");
  document.querySelectorAll("button.use").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        const response = await fetch(`/demo/keys/${button.dataset.key}.json`, { credentials: "same-origin" });
        if (!response.ok) throw new Error(response.statusText);
        const address = Wallet.add(await response.text());
        status.textContent = text.added.replace("{address}", address);
      } catch (error) {
        status.textContent = error.message;
      }
    });
  });
})();
