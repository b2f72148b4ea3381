// Issuing at the counter: one credential from the form (POST /records), or a CSV file turned
// into the same items, checked by the vault first (POST /records/bulk with dry_run: every bad
// line named by its number), issued in chunks while a <progress> moves, then followed until
// the chain has it (POST /records/status). Every rule is the API's: the page only reads the
// file and turns dates into Unix seconds, and says beside each field what to do.
"use strict";
(() => {
  const { text } = Page;
  const CHUNK = text.chunk || 50;
  const STATUS_CHUNK = 500;
  const DAY = 86400;
  const $ = (id) => document.getElementById(id);
  const words = (key, values = {}) =>
    Object.entries(values).reduce((s, [k, v]) => s.split(`{${k}}`).join(String(v)), text[key] || key);
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

  // A date (YYYY-MM-DD: "until" means through that day, UTC, as `datavault issue` reads it),
  // an ISO date-time or Unix seconds; null when it is none of them.
  function seconds(value, start) {
    const v = String(value || "").trim();
    if (/^\d+$/.test(v)) return Number(v);
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
      const midnight = Date.parse(`${v}T00:00:00Z`);
      if (Number.isNaN(midnight) || new Date(midnight).toISOString().slice(0, 10) !== v) return null;
      return midnight / 1000 + (start ? 0 : DAY);
    }
    if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
      const at = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v}Z`);
      return Number.isNaN(at) ? null : Math.floor(at / 1000);
    }
    return null;
  }

  // Which input a problem concerns: the API names it by field ("subject.identifier",
  // "valid_until", ...) or, for the request's schema, by its place in the body.
  function topic(field) {
    const head = String(field || "").split(".")[0];
    if (head === "subject" || head === "identifier" || head === "kind") return "identifier";
    return ["type", "title", "fields", "valid_from", "valid_until"].includes(head) ? head : "other";
  }

  function advice(field) {
    return text[`issue.advice.${topic(field)}`];
  }

  // ---- one credential ----------------------------------------------------------------------
  const rows = $("field-rows");
  const inputs = {
    identifier: $("identifier"),
    type: $("type"),
    title: $("doc-title"),
    fields: null,
    valid_from: $("valid-from"),
    valid_until: $("valid-until"),
  };
  const errorBox = {
    identifier: $("identifier-error"),
    type: $("type-error"),
    title: $("doc-title-error"),
    fields: $("fields-error"),
    valid_from: $("valid-from-error"),
    valid_until: $("valid-until-error"),
  };

  function renumber() {
    [...rows.children].forEach((li, i) => {
      const n = i + 1;
      const [nameLabel, valueLabel] = li.querySelectorAll("label span");
      nameLabel.textContent = words("issue.field.name", { n });
      valueLabel.textContent = words("issue.field.value", { n });
      li.querySelector("button").textContent = words("issue.field.remove", { n });
    });
  }

  function addRow() {
    const li = document.createElement("li");
    li.className = "field-row";
    for (const part of ["name", "value"]) {
      const label = document.createElement("label");
      const span = document.createElement("span");
      const input = document.createElement("input");
      input.type = "text";
      input.autocomplete = "off";
      input.className = `field-${part}`;
      input.setAttribute("aria-describedby", "fields-error");
      label.append(span, input);
      li.appendChild(label);
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary";
    remove.addEventListener("click", () => {
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      if (!rows.children.length) addRow();
      renumber();
      (next || rows.firstElementChild).querySelector("input").focus();
    });
    li.appendChild(remove);
    rows.appendChild(li);
    renumber();
    return li;
  }
  addRow();
  $("field-add").addEventListener("click", () => addRow().querySelector("input").focus());

  function clearErrors() {
    for (const [key, box] of Object.entries(errorBox)) {
      box.hidden = true;
      box.textContent = "";
      const input = inputs[key];
      if (input) input.removeAttribute("aria-invalid");
    }
  }

  // The problem shown beside its field: what to do, then the vault's own reason (English).
  function showBeside(field, reason) {
    const key = topic(field) === "other" ? "identifier" : topic(field);
    const box = errorBox[key];
    box.textContent = "";
    const what = document.createElement("strong");
    what.textContent = advice(field);
    const why = document.createElement("small");
    why.className = "reason";
    why.lang = "en";
    why.textContent = ` (${text["issue.details"]}: ${reason})`;
    box.append(what, why);
    box.hidden = false;
    const input = inputs[key] || rows.querySelector("input");
    input.setAttribute("aria-invalid", "true");
    return input;
  }

  function problemsOf(error) {
    const answer = error.answer || {};
    if (Array.isArray(answer.errors) && answer.errors.length) {
      return answer.errors.map((e) => ({
        field: e.field !== undefined ? e.field : (e.loc || []).slice(1).join("."),
        reason: e.reason || e.msg || "",
      }));
    }
    if (error.status === 404) return [{ field: "subject", reason: Page.reason(error) }];
    return [{ field: answer.field || "", reason: Page.reason(error) }];
  }

  // Follows records until the chain has them, calling back with each round's answers; stops
  // early (returning null) once ``current()`` is false: the clerk has moved on.
  async function follow(ids, shown, current) {
    for (;;) {
      if (!current()) return null;
      const found = [];
      for (let start = 0; start < ids.length; start += STATUS_CHUNK) {
        found.push(...(await Page.post("/records/status", { ids: ids.slice(start, start + STATUS_CHUNK) })));
      }
      const settled = found.filter((r) => r.status !== "pending" && (r.status !== "anchored" || r.tx_hash));
      if (!current()) return null;
      shown(found, settled.length);
      if (settled.length === found.length) return found;
      await sleep(1500);
    }
  }

  function showRecord(record, status) {
    const entries = [
      [text["issue.id"], record.id],
      [text["issue.status"], text[`status.${status.status}`] || status.status],
    ];
    if (status.tx_hash) entries.push([text["issue.tx"], status.tx_hash]);
    Page.pairs($("issued-record"), entries);
    $("issued-record").dataset.status = status.status;
  }

  const one = $("one");
  let shownRecord = 0; // which issuance the record box shows (an older one stops following)
  one.addEventListener("submit", async (event) => {
    event.preventDefault();
    const mine = ++shownRecord;
    clearErrors();
    $("issued").hidden = true;
    const fields = {};
    for (const li of rows.children) {
      const name = li.querySelector(".field-name").value.trim();
      const value = li.querySelector(".field-value").value.trim();
      if (name || value) fields[name] = value;
    }
    const body = {
      subject: { kind: one.querySelector("input[name=kind]:checked").value, identifier: inputs.identifier.value.trim() },
      type: inputs.type.value,
      title: inputs.title.value.trim(),
      fields,
    };
    const until = seconds(inputs.valid_until.value, false);
    if (until === null) {
      // Required: said beside the field, before any call (the vault's reason would be a schema's).
      errorBox.valid_until.textContent = text["issue.required.valid_until"];
      errorBox.valid_until.hidden = false;
      inputs.valid_until.setAttribute("aria-invalid", "true");
      inputs.valid_until.focus();
      Page.say("");
      return;
    }
    body.valid_until = until;
    const from = seconds(inputs.valid_from.value, true);
    if (from !== null) body.valid_from = from;
    Page.say(text["issue.working"]);
    try {
      const record = await Page.post("/records", body);
      Page.say(words("issue.done", { id: record.id }));
      showRecord(record, { status: record.status, tx_hash: record.anchor && record.anchor.tx_hash });
      $("issued").hidden = false;
      const current = () => mine === shownRecord;
      follow([record.id], (found) => showRecord(record, found[0]), current).catch((error) => Page.say(Page.reason(error)));
    } catch (error) {
      Page.say("");
      const inputsShown = problemsOf(error).map((p) => showBeside(p.field, p.reason));
      inputsShown[0].focus();
    }
  });

  // ---- a CSV file ----------------------------------------------------------------------------

  const parseCsv = Csv.parse;
  window.Issuing = { parseCsv };

  const SUBJECT = ["kind", "identifier", "subject_id"];
  const KNOWN = [...SUBJECT, "type", "title", "valid_from", "valid_until", "fields"];

  // The API items of a CSV file: {items: [{line, item}], problems: [{line, advice}]}, or
  // {header: what is wrong with line 1}.
  function itemsOf(source) {
    const { rows: read, unclosed } = parseCsv(source);
    const header = read.length ? read[0].cells.map((h) => h.trim()) : [];
    for (const column of ["type", "title", "valid_until"]) {
      if (!header.includes(column)) return { header: words("issue.local.header", { col: column }) };
    }
    if (!header.includes("identifier") && !header.includes("subject_id")) return { header: text["issue.local.subject"] };
    if (header.includes("") || new Set(header).size !== header.length) return { header: text["issue.local.repeat"] };
    const extra = header.filter((h) => !KNOWN.includes(h));
    const items = [];
    const problems = [];
    for (const { line, cells: raw } of read.slice(1)) {
      const cells = Object.fromEntries(header.map((h, i) => [h, (raw[i] || "").trim()]));
      if (!raw.some((c) => c.trim())) continue;
      if (raw.length > header.length) {
        problems.push({ line, advice: text["issue.local.cells"] });
        continue;
      }
      let fields = {};
      if (cells.fields) {
        try {
          fields = JSON.parse(cells.fields);
        } catch (_) {
          fields = null;
        }
        if (!fields || typeof fields !== "object" || Array.isArray(fields)) {
          problems.push({ line, advice: text["issue.local.json"] });
          continue;
        }
      }
      for (const name of extra) if (cells[name] !== "") fields[name] = cells[name];
      const item = {
        subject: cells.subject_id
          ? { subject_id: cells.subject_id }
          : { kind: cells.kind || "citizen", identifier: cells.identifier },
        type: cells.type,
        title: cells.title,
        fields,
      };
      const until = seconds(cells.valid_until, false);
      if (until === null) {
        problems.push({ line, advice: words("issue.local.date", { col: "valid_until" }) });
        continue;
      }
      item.valid_until = until;
      if (cells.valid_from) {
        const from = seconds(cells.valid_from, true);
        if (from === null) {
          problems.push({ line, advice: words("issue.local.date", { col: "valid_from" }) });
          continue;
        }
        item.valid_from = from;
      }
      items.push({ line, item });
    }
    if (unclosed !== null) problems.push({ line: unclosed, advice: text["issue.local.quote"] });
    return { items, problems };
  }

  // The problems a refusal of ``count`` items names, by item index: the vault's
  // ({index, field, reason}, more_errors beyond them) or the request schema's ({loc, msg}:
  // the vault checked nothing, so the others are asked again). Null if it names no item.
  function named(error, count) {
    const errors = error.status === 422 && error.answer && error.answer.errors;
    if (!Array.isArray(errors)) return null;
    const found = [];
    let schema = false;
    for (const e of errors) {
      let { index, field, reason } = e;
      if (typeof index !== "number" && Array.isArray(e.loc) && e.loc[1] === "items" && /^\d+$/.test(e.loc[2])) {
        index = Number(e.loc[2]);
        field = e.loc.slice(3).join(".");
        reason = field ? `${field}: ${e.msg}` : e.msg;
        schema = true;
      }
      if (typeof index === "number" && index >= 0 && index < count) found.push({ index, field, reason });
    }
    if (!found.length) return null;
    return { found, more: Math.max(0, Number(error.answer.more_errors) || 0), schema };
  }

  const chunks = (list, size) => {
    const out = [];
    for (let start = 0; start < list.length; start += size) out.push(list.slice(start, start + size));
    return out;
  };

  const batchSay = (message) => {
    $("batch-status").textContent = message;
  };
  const progress = $("progress");
  const issueAll = $("issue-all");
  let ready = null; // the checked file's items, when every line passed
  let run = 0; // which check or issuance the batch part shows (an older one stops following)

  async function dryRun(entries) {
    const problems = [];
    let more = 0;
    let done = 0;
    for (const chunk of chunks(entries, CHUNK)) {
      let pending = chunk;
      while (pending.length) {
        try {
          await Page.post("/records/bulk", { items: pending.map((e) => e.item), dry_run: true });
          break;
        } catch (error) {
          const answer = named(error, pending.length);
          if (!answer) throw error;
          for (const p of answer.found) {
            problems.push({ line: pending[p.index].line, advice: advice(p.field), reason: p.reason });
          }
          more += answer.more;
          if (!answer.schema) break;
          const refused = new Set(answer.found.map((p) => p.index));
          pending = pending.filter((_, i) => !refused.has(i));
        }
      }
      done += chunk.length;
      batchSay(`${text["issue.checking"]} ${done} / ${entries.length}`);
    }
    return { problems, more };
  }

  function listProblems(problems, more) {
    const list = $("problems");
    list.textContent = "";
    problems.sort((a, b) => a.line - b.line);
    for (const p of problems) {
      const li = document.createElement("li");
      li.dataset.line = String(p.line);
      const where = document.createElement("strong");
      where.textContent = `${words("issue.line", { n: p.line })}：`;
      li.append(where, document.createTextNode(p.advice));
      if (p.reason) {
        const why = document.createElement("small");
        why.className = "reason";
        why.lang = "en";
        why.textContent = ` (${text["issue.details"]}: ${p.reason})`;
        li.appendChild(why);
      }
      list.appendChild(li);
    }
    if (more) {
      const li = document.createElement("li");
      li.textContent = words("issue.checked.more", { n: more });
      list.appendChild(li);
    }
    $("checked").hidden = !problems.length;
  }

  function fileError(message) {
    const box = $("csv-error");
    box.textContent = message;
    box.hidden = !message;
    if (message) $("csv").setAttribute("aria-invalid", "true");
    else $("csv").removeAttribute("aria-invalid");
  }

  $("csv").addEventListener("change", () => {
    run += 1;
    ready = null;
    issueAll.hidden = true;
    $("checked").hidden = true;
    fileError("");
    batchSay("");
  });

  $("batch").addEventListener("submit", async (event) => {
    event.preventDefault();
    run += 1;
    ready = null;
    issueAll.hidden = true;
    $("checked").hidden = true;
    $("run").hidden = true;
    fileError("");
    const file = $("csv").files[0];
    if (!file) {
      fileError(text["issue.nofile"]);
      return $("csv").focus();
    }
    const read = itemsOf(await file.text());
    if (read.header) {
      fileError(read.header);
      return $("csv").focus();
    }
    if (!read.items.length && !read.problems.length) {
      fileError(text["issue.empty"]);
      return $("csv").focus();
    }
    batchSay(text["issue.checking"]);
    try {
      const checked = read.items.length ? await dryRun(read.items) : { problems: [], more: 0 };
      const problems = [...read.problems, ...checked.problems];
      listProblems(problems, checked.more);
      if (problems.length) {
        const lines = new Set(problems.map((p) => p.line)).size;
        batchSay("");
        fileError(words("issue.checked.bad", { bad: problems.length + checked.more, lines }));
        return;
      }
      ready = read.items;
      batchSay(words("issue.checked.ok", { n: ready.length }));
      issueAll.textContent = words("issue.issue_all", { n: ready.length });
      issueAll.hidden = false;
      issueAll.focus();
    } catch (error) {
      batchSay("");
      fileError(Page.reason(error));
    }
  });

  function showAnchors(found) {
    const list = $("anchors");
    list.textContent = "";
    const by = new Map();
    for (const r of found) {
      if (!r.tx_hash) continue;
      const entry = by.get(r.tx_hash) || { tx: r.tx_hash, block: r.block_number, n: 0 };
      entry.n += 1;
      by.set(r.tx_hash, entry);
    }
    for (const entry of by.values()) {
      const li = document.createElement("li");
      li.className = "anchor";
      const code = document.createElement("code");
      code.textContent = entry.tx;
      const [before, after] = words("issue.anchor", { block: entry.block, n: entry.n }).split("{tx}");
      li.append(document.createTextNode(before), code, document.createTextNode(after));
      list.appendChild(li);
    }
  }

  issueAll.addEventListener("click", async () => {
    if (!ready) return;
    const entries = ready;
    const mine = ++run;
    ready = null;
    issueAll.hidden = true;
    $("run").hidden = false;
    $("anchors").textContent = "";
    progress.max = entries.length;
    progress.value = 0;
    const sent = () => {
      $("progress-text").textContent = words("issue.sent", { done: ids.length, total: entries.length });
    };
    const ids = [];
    const result = $("result");
    result.textContent = "";
    delete result.dataset.state;
    let stopped = "";
    sent();
    batchSay(text["issue.working"]);
    // No other file while this one is being issued.
    const locked = [$("csv"), $("batch").querySelector("button[type=submit]")];
    locked.forEach((control) => { control.disabled = true; });
    for (const chunk of chunks(entries, CHUNK)) {
      try {
        const answer = await Page.post("/records/bulk", { items: chunk.map((e) => e.item) });
        ids.push(...answer.records.map((r) => r.id));
      } catch (error) {
        stopped = words("issue.stopped", { line: chunk[0].line, reason: Page.reason(error), done: ids.length });
        break;
      }
      progress.value = ids.length;
      sent();
    }
    locked.forEach((control) => { control.disabled = false; });
    const issued = stopped || words("issue.issued", { n: ids.length });
    result.textContent = issued;
    batchSay("");
    if (!ids.length) return;
    try {
      const found = await follow(ids, (rows, settled) => {
        $("progress-text").textContent = `${words("issue.sent", { done: ids.length, total: entries.length })} · ${words("issue.waiting", { done: settled, total: rows.length })}`;
      }, () => mine === run);
      if (!found) return;
      const failed = found.filter((r) => !["anchored", "revoking", "revoked"].includes(r.status)).length;
      showAnchors(found);
      const anchored = words("issue.anchored", { n: found.length - failed });
      result.dataset.state = failed ? "failed" : "anchored";
      result.textContent = `${issued} ${failed ? words("issue.failed", { n: failed }) : anchored}`;
      $("progress-text").textContent = words("issue.sent", { done: ids.length, total: entries.length });
      batchSay("");
    } catch (error) {
      batchSay(Page.reason(error));
    }
  });
})();
