// Put a demo person's keystore file into this browser, as if the person had imported it.
"use strict";
(() => {
  const { text, say } = Page;
  document.querySelectorAll("button.use").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        const json = await Page.call(`/demo/keys/${button.dataset.key}.json`, { method: "GET", as: "text" });
        say(text.added.replace("{address}", Wallet.add(json)));
      } catch (error) {
        say(Page.reason(error));
      }
    });
  });
})();
