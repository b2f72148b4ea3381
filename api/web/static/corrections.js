// Corrections (纠错), on the citizen's record page and at the issuing department's counter.
// Every step is a call to the JSON API with the session cookie (asking, accepting, rejecting,
// marking a notice read): the rules are the API's. A refusal about one field is said beside
// that field, with what to do next; the vault's own reason (English) follows in small print.
"use strict";
(() => {
  const words = JSON.parse((document.getElementById("correction-words") || { textContent: "{}" }).textContent);

  // The field a refusal names: the vault's own (problem.field), or the request's (loc).
  function fieldOf(error) {
    const answer = (error && error.answer) || {};
    if (answer.field) return answer.field;
    const first = (answer.errors || [])[0];
    return first && first.loc ? first.loc[first.loc.length - 1] : undefined;
  }

  function advise(box, advice, reason) {
    const said = document.getElementById(`${box.id}-error`);
    said.textContent = advice;
    const small = document.createElement("small");
    small.className = "reason";
    small.lang = "en";
    small.textContent = ` (${reason})`;
    said.appendChild(small);
    box.setAttribute("aria-invalid", "true");
    box.focus();
  }

  function unadvise(...boxes) {
    for (const box of boxes) {
      box.removeAttribute("aria-invalid");
      document.getElementById(`${box.id}-error`).textContent = "";
    }
  }

  // -- the citizen asks, on the record's page ----------------------------------------------
  const form = document.getElementById("correction");
  if (form) {
    const status = document.getElementById("corr-status");
    const value = form.querySelector("#corr-value");
    const reason = form.querySelector("#corr-reason");
    const boxes = { fields: value, reason };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      unadvise(value, reason);
      status.textContent = words.working;
      try {
        await Page.post(`/me/records/${encodeURIComponent(form.dataset.record)}/corrections`, {
          reason: reason.value,
          fields: { [form.querySelector("#corr-field").value]: value.value },
        });
        form.hidden = true;
        status.textContent = words.sent;
        document.getElementById("corr-sent").hidden = false;
      } catch (error) {
        const field = fieldOf(error);
        if (error.status === 422 && boxes[field]) {
          status.textContent = "";
          advise(boxes[field], words[field], Page.reason(error));
        } else {
          status.textContent = Page.reason(error);
        }
      }
    });
  }

  // -- the issuing department decides ------------------------------------------------------
  document.querySelectorAll("li[data-correction] .decide").forEach((card) => {
    const item = card.closest("li");
    const id = item.dataset.correction;
    const status = item.querySelector(".status-line");
    const note = card.querySelector("textarea.reject-note");
    const acceptNote = card.querySelector("input.accept-note");
    const done = (message, state) => {
      card.hidden = true;
      status.textContent = message;
      const badge = item.querySelector(".badge");
      badge.textContent = words[`status.${state}`];
      badge.className = `badge corr-${state}`;
    };
    card.querySelector("button.accept").addEventListener("click", async () => {
      unadvise(note);
      status.textContent = words.working;
      try {
        const answer = await Page.post(`/corrections/${id}/accept`, { note: acceptNote.value });
        done(words.accepted.replace("{n}", answer.correction.new_version), "accepted");
      } catch (error) {
        status.textContent = Page.reason(error);
      }
    });
    card.querySelector("button.reject").addEventListener("click", async () => {
      unadvise(note);
      status.textContent = words.working;
      try {
        await Page.post(`/corrections/${id}/reject`, { note: note.value });
        done(words.rejected, "rejected");
      } catch (error) {
        if (error.status === 422 && fieldOf(error) === "note") {
          status.textContent = "";
          advise(note, words.note, Page.reason(error));
        } else {
          status.textContent = Page.reason(error);
        }
      }
    });
  });

  // -- notices: marked read one by one -----------------------------------------------------
  document.querySelectorAll("button.mark-read").forEach((button) => {
    button.addEventListener("click", async () => {
      const item = button.closest("li");
      const status = document.getElementById("notices-status");
      try {
        await Page.post(`/notifications/${button.dataset.notice}/read`);
        item.classList.remove("unread");
        const badge = item.querySelector(".badge");
        badge.textContent = words.read;
        badge.className = "badge notice-read";
        status.focus();
        button.remove();
        // The count is of every unread notice, not only this page's: one fewer now.
        const count = document.getElementById("unread-count");
        if (count) {
          const left = Math.max(0, Number(count.dataset.n) - 1);
          count.dataset.n = String(left);
          count.textContent = left ? words.unread.replace("{n}", left) : "";
        }
        status.textContent = words.marked;
      } catch (error) {
        status.textContent = Page.reason(error);
      }
    });
  });
})();
