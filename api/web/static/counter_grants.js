// Reading under a grant: the API discloses exactly the granted fields of the subject's
// records, counts the use and logs the access, which the subject then sees.
"use strict";
(() => {
  const { text, say } = Page;
  document.querySelectorAll("button.read").forEach((button) => {
    button.addEventListener("click", async () => {
      say(text.working);
      const card = button.closest("li");
      try {
        const answer = await Page.post(`/grants/${button.dataset.grant}/read`);
        const box = card.querySelector(".disclosed");
        box.textContent = "";
        if (!answer.records.length) box.textContent = text.nothing;
        for (const record of answer.records) {
          const h = document.createElement("h3");
          h.textContent = record.title;
          const dl = document.createElement("dl");
          Page.pairs(dl, Object.entries(record.fields));
          box.append(h, dl);
        }
        box.hidden = false;
        // The use is counted: the card says so now, without a reload.
        card.querySelector(".uses").textContent = `${answer.uses} / ${answer.max_uses}`;
        if (answer.uses >= answer.max_uses) {
          const badge = card.querySelector(".status");
          badge.textContent = text.used;
          badge.className = "status grant-exhausted";
          button.remove();
          box.tabIndex = -1;
          box.focus();
        }
        say("");
      } catch (error) {
        say(Page.reason(error));
      }
    });
  });
})();
