// Erasure (被遗忘): a record, or the whole file, erased by the JSON API with the session cookie
// once the person ticked "I understand". A whole file first revokes each live grant, signed
// here with the person's own key exactly as on the grants page: the server never sees the key.
// On the counter, an issuer marks the notices of its erased records read.
"use strict";
(() => {
  const { say } = Page;
  const SAID = "erasure.said"; // said once on the erasures page, after the erasure
  const node = document.getElementById("erasure-words");
  const words = node ? JSON.parse(node.textContent) : Page.text;

  const once = sessionStorage.getItem(SAID);
  if (once && document.getElementById("list-h") !== null) { // the erasures page
    sessionStorage.removeItem(SAID);
    say(once);
  }

  // A missing tick or password is said beside its field, before anything is sent.
  function missing(id, message) {
    const input = document.getElementById(id);
    const box = document.getElementById(`${id}-error`);
    box.textContent = "";
    input.removeAttribute("aria-invalid");
    const given = input.type === "checkbox" ? input.checked : input.value;
    if (given) return false;
    box.textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return true;
  }

  const record = document.getElementById("erase-record");
  if (record) {
    const status = document.getElementById("erase-status");
    const tell = (message) => (status.textContent = message);
    record.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (missing("erase-understand", words.understand)) return;
      tell(words.working);
      try {
        await Page.post("/me/erasures", { scope: "record", record_id: record.dataset.record });
        tell(words.done);
        sessionStorage.setItem(SAID, words.done);
        window.location.assign("/my/erasures");
      } catch (error) {
        tell(Page.reason(error));
      }
    });
  }

  const file = document.getElementById("erase-file");
  if (file) {
    file.addEventListener("submit", async (event) => {
      event.preventDefault();
      const grants = [...document.querySelectorAll(".live-grants li[data-grant]")].map((li) => li.dataset.grant);
      if (grants.length && missing("erase-password", words.nopassword)) return;
      if (missing("erase-understand", words.understand)) return;
      const secret = grants.length ? document.getElementById("erase-password").value : null;
      say(words.working);
      try {
        for (const [i, id] of grants.entries()) {
          say(words.revoking.replace("{i}", String(i + 1)).replace("{n}", String(grants.length)));
          const { typed_data: typed } = await Page.post(`/me/grants/${id}/revoke/prepare`, {});
          const signature = await Wallet.signTyped(typed, secret);
          await Page.post(`/me/grants/${id}/revoke`, { signature });
        }
        say(words.working);
        await Page.post("/me/erasures", { scope: "file" });
        sessionStorage.setItem(SAID, words.done);
        window.location.assign(window.location.pathname);
      } catch (error) {
        say(Page.reason(error));
      }
    });
  }

  // -- the issuer's notices: marked read one by one ----------------------------------------------
  const noticeNode = document.getElementById("erasure-notice-words");
  if (noticeNode) {
    const said = JSON.parse(noticeNode.textContent);
    document.querySelectorAll("button.erasure-read").forEach((button) => {
      button.addEventListener("click", async () => {
        const item = button.closest("li");
        const status = document.getElementById("erasure-notices-status");
        try {
          await Page.post("/departments/me/erasure-notices/read", { ids: [Number(button.dataset.notice)] });
          item.classList.remove("unread");
          const badge = item.querySelector(".badge");
          badge.textContent = said.read;
          badge.className = "badge notice-read";
          status.textContent = said.marked;
          button.remove();
          status.focus();
        } catch (error) {
          status.textContent = Page.reason(error);
        }
      });
    });
  }
})();
