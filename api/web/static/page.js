// What every page's script shares: the page's words (a JSON block the template fills in the
// reader's language), its status line, and calls to the JSON API with the session cookie.
// A refusal comes back as an RFC 9457 problem; its reason is what the person is shown.
"use strict";
const Page = (() => {
  // Until every script of the page has run, its buttons are not pressable (app.css): a press
  // before then would do nothing, or submit a form the browser's own way.
  window.addEventListener("load", () => document.documentElement.classList.add("ready"));

  const node = document.getElementById("messages");
  const text = node ? JSON.parse(node.textContent) : {};
  const line = document.getElementById("status");

  function say(message) {
    if (line) line.textContent = message;
  }

  class Problem extends Error {
    constructor(response, answer) {
      super(answer.detail || answer.title || response.statusText || String(response.status));
      this.status = response.status;
      this.answer = answer;
    }
  }

  // body: an object (sent as JSON), a Blob/File (sent as is), or undefined.
  // as: "json" (default), "blob", "text" or "response".
  async function call(url, { method = "POST", body, as = "json", type } = {}) {
    const init = { method, credentials: "same-origin", headers: {} };
    if (body instanceof Blob) {
      init.body = body;
      init.headers["Content-Type"] = type || body.type || "application/octet-stream";
    } else if (method !== "GET") {
      init.body = JSON.stringify(body || {});
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(url, init);
    if (!response.ok) throw new Problem(response, await response.json().catch(() => ({})));
    if (as === "response") return response;
    if (as === "blob") return response.blob();
    if (as === "text") return response.text();
    return response.status === 204 ? null : response.json();
  }

  // What to tell the person about a failure: the page's own words for a problem's code when it
  // has them ("code.<code>" in its messages), else the vault's reason.
  // Without words for its code, a refusal is headed in the reader's language by its status
  // (the vault's reasons are English), its reason following.
  const statusNode = document.getElementById("problem-words");
  const byStatus = statusNode ? JSON.parse(statusNode.textContent) : {};
  function reason(error) {
    const code = error && error.answer && error.answer.code;
    if (code && text[`code.${code}`]) return text[`code.${code}`];
    const message = (error && error.message) || String(error);
    const head = error instanceof Problem && byStatus[String(error.status)];
    return head ? `${head}（${message}）` : message;
  }

  const post = (url, body) => call(url, { body });
  const get = (url) => call(url, { method: "GET" });

  // Name/value rows of a <dl>, values shown as text (never as HTML).
  function pairs(dl, entries) {
    dl.textContent = "";
    for (const [name, value] of entries) {
      const row = document.createElement("div");
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = name;
      dd.textContent = typeof value === "string" ? value : JSON.stringify(value);
      row.append(dt, dd);
      dl.appendChild(row);
    }
  }

  // Each check of a verdict as a line a clerk reads at a glance: passed or failed, the check in
  // plain words, what to do when it failed; the vault's own reason (English) under "details".
  function checks(list, items) {
    list.textContent = "";
    const words = text.checks || {};
    for (const check of items) {
      const known = words[check.name];
      const li = document.createElement("li");
      li.className = check.passed ? "check ok" : "check bad";
      li.dataset.check = check.name;
      const head = document.createElement("strong");
      head.textContent = `${check.passed ? text.passed : text.failed} · ${known ? known.ok : check.name}`;
      li.appendChild(head);
      if (!check.passed && known && known.bad) {
        const advice = document.createElement("span");
        advice.className = "advice";
        advice.textContent = ` ${known.bad}`;
        li.appendChild(advice);
      }
      const more = document.createElement("small");
      more.className = "reason";
      more.lang = "en";
      more.textContent = ` (${text.details || "details"}: ${check.reason})`;
      li.appendChild(more);
      list.appendChild(li);
    }
  }

  return { text, say, call, post, get, pairs, checks, reason, Problem };
})();
