// The registration counter. Enrolment: the person's address (shown on their phone as a QR code,
// scanned or read from a picture) and their ID number or credit code; the vault keeps only a
// keyed hash of the number. A lost key and a guardian start from the same number: the vault
// finds the subject in this registrar's care, the clerk sees whom, then acts.
"use strict";
(() => {
  const { text, say } = Page;
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

  // A refusal goes beside the field it concerns (the API names it), else to the status line.
  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
  }
  function showError(form, error, fields) {
    const field = error && error.answer && error.answer.field;
    const box = field && fields[field] && document.getElementById(`${fields[field]}-error`);
    if (box) {
      box.textContent = Page.reason(error);
      say("");
    } else {
      say(Page.reason(error));
    }
  }
  // Required fields are checked here first, so that an empty one is named beside itself in the
  // reader's language (the API would refuse it too, in English, for the whole form).
  function missing(checks) {
    let first = null;
    for (const [id, message] of checks) {
      if (document.getElementById(id).value.trim()) continue;
      document.getElementById(`${id}-error`).textContent = message;
      first = first || id;
    }
    if (first) {
      document.getElementById(first).focus();
      say("");
    }
    return first !== null;
  }
  const kindOf = (prefix) => document.querySelector(`input[name=${prefix}-kind]:checked`).value;
  const identifierOf = (prefix) => document.getElementById(`${prefix}-identifier`).value.trim();
  const addressOf = (id) => document.getElementById(id).value.trim();

  // -- reading an address from its QR code: the camera, or a picture ----------------------------
  let target = null;
  const camera = Camera.attach({
    video: document.getElementById("scan-video"),
    stop: document.getElementById("scan-stop"),
    looking: text.looking,
    failed: text.nocamera,
    say,
    read: async (frame) => {
      try {
        return put(target, await Page.call("/registrar/scan", { body: frame, type: "image/png" }));
      } catch (_) {
        return false; // no address in this frame: keep looking
      }
    },
  });
  function put(id, answer) {
    const input = document.getElementById(id);
    input.value = answer.address;
    document.getElementById(`${id}-error`).textContent = "";
    say(fill(text.read, { address: answer.address }));
    input.focus();
    return true;
  }
  document.querySelectorAll("button.scan").forEach((button) => {
    button.hidden = !Camera.can;
    button.addEventListener("click", () => {
      target = button.dataset.for;
      camera.on();
    });
  });
  document.querySelectorAll("input.scan-file").forEach((input) => {
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      const id = input.dataset.for;
      say(text.working);
      try {
        put(id, await Page.call("/registrar/scan", { body: file, type: file.type || "image/png" }));
      } catch (error) {
        document.getElementById(`${id}-error`).textContent = Page.reason(error);
        say("");
      }
      input.value = "";
    });
  });

  // -- enrolment ---------------------------------------------------------------------------------
  const enrol = document.getElementById("enrol");
  enrol.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(enrol);
    if (missing([["enrol-identifier", text.noidentifier], ["name", text.noname], ["address", text.noaddress]])) return;
    say(text.working);
    const body = {
      kind: kindOf("enrol"),
      identifier: identifierOf("enrol"),
      name: document.getElementById("name").value.trim(),
      address: addressOf("address"),
    };
    try {
      const answer = await Page.post("/subjects", body);
      enrol.reset();
      const done = document.getElementById("enrolled");
      done.textContent = fill(text.done, { name: answer.name || body.name, address: answer.address });
      done.hidden = false;
      say("");
    } catch (error) {
      showError(enrol, error, { identifier: "enrol-identifier", name: "name", address: "address" });
    }
  });

  // -- finding the subject a lost key or a guardian is for ---------------------------------------
  const found = {};
  async function find(prefix) {
    const form = document.getElementById(prefix);
    clearErrors(form);
    const out = document.getElementById(`${prefix}-found`);
    out.textContent = "";
    found[prefix] = null;
    if (missing([[`${prefix}-identifier`, text.noidentifier]])) return null;
    say(text.working);
    try {
      const subject = await Page.post("/subjects/find", { kind: kindOf(prefix), identifier: identifierOf(prefix) });
      found[prefix] = subject;
      out.textContent = fill(text.found, subject);
      say("");
    } catch (error) {
      showError(form, error, { identifier: `${prefix}-identifier` });
    }
    return found[prefix];
  }
  document.querySelectorAll("button.find").forEach((button) => {
    button.addEventListener("click", () => find(button.dataset.form));
  });
  ["replace", "guardian"].forEach((prefix) => {
    const forget = () => {
      found[prefix] = null;
      document.getElementById(`${prefix}-found`).textContent = "";
    };
    document.getElementById(`${prefix}-identifier`).addEventListener("input", forget);
    document.querySelectorAll(`input[name=${prefix}-kind]`).forEach((r) => r.addEventListener("change", forget));
  });
  function needFound(prefix) {
    if (found[prefix]) return found[prefix];
    document.getElementById(`${prefix}-identifier-error`).textContent = text.findfirst;
    return null;
  }

  // -- a lost key --------------------------------------------------------------------------------
  const replace = document.getElementById("replace");
  replace.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(replace);
    const subject = needFound("replace");
    if (!subject) return;
    if (missing([["replace-address", text.noaddress]])) return;
    say(text.working);
    try {
      const answer = await Page.post(`/subjects/${subject.id}/key`, { address: addressOf("replace-address") });
      const done = document.getElementById("replaced");
      done.textContent = fill(text.replaced, answer);
      done.hidden = false;
      replace.reset();
      found.replace = null;
      document.getElementById("replace-found").textContent = "";
      say("");
    } catch (error) {
      showError(replace, error, { address: "replace-address" });
    }
  });

  // -- guardians -----------------------------------------------------------------------------------
  const guardian = document.getElementById("guardian");
  const guardianDone = document.getElementById("guardian-done");
  guardian.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(guardian);
    const subject = needFound("guardian");
    if (!subject) return;
    const reason = document.getElementById("guardian-reason").value.trim();
    const until = document.getElementById("guardian-until").value;
    if (!until) document.getElementById("guardian-until-error").textContent = text.nodate;
    if (!reason) document.getElementById("guardian-reason-error").textContent = text.noreason;
    if (missing([["guardian-address", text.noaddress]]) || !until || !reason) return;
    say(text.working);
    try {
      const answer = await Page.post(`/subjects/${subject.id}/guardians`, {
        address: addressOf("guardian-address"),
        expires_at: Math.floor(Date.parse(`${until}T23:59:59Z`) / 1000),
        reason,
      });
      guardianDone.textContent = fill(text.guardian, { name: subject.name, address: answer.agent, until });
      guardianDone.hidden = false;
      say("");
    } catch (error) {
      showError(guardian, error, { address: "guardian-address", expires_at: "guardian-until", reason: "guardian-reason" });
    }
  });
  document.getElementById("guardian-remove").addEventListener("click", async () => {
    clearErrors(guardian);
    const subject = needFound("guardian");
    if (!subject) return;
    if (missing([["guardian-address", text.noaddress]])) return;
    const address = addressOf("guardian-address");
    say(text.working);
    try {
      const answer = await Page.call(`/subjects/${subject.id}/guardians/${encodeURIComponent(address)}`, { method: "DELETE" });
      guardianDone.textContent = fill(text.removed, { name: subject.name, address: answer.agent });
      guardianDone.hidden = false;
      say("");
    } catch (error) {
      showError(guardian, error, { address: "guardian-address" });
    }
  });
})();
