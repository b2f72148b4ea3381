// Each access-log entry checked here: the leaf hash is recomputed from the entry (SHA-256 of
// 0x00 and its bytes), the RFC 9162 audit path is followed to the root of the tree head the
// vault anchored (its transaction is shown, for anyone to compare on the chain), and what the
// page shows of the entry must be what the proven entry says.
"use strict";
(() => {
  const { text } = Page;
  const bytes = (hex) => ethers.getBytes(hex);
  const hash = (...parts) => ethers.sha256(ethers.concat(parts));

  // RFC 9162, section 2.1.3.2.
  function verifyInclusion(index, size, leaf, path, root) {
    if (index >= size) return false;
    let fn = index;
    let sn = size - 1;
    let r = leaf;
    for (const p of path) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = hash("0x01", p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = hash("0x01", r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && r.toLowerCase() === root.toLowerCase();
  }

  // Is ``entry`` (its text as hashed) in the tree of ``proof``'s anchored head? Never throws.
  function check(entry, proof) {
    try {
      const seq = JSON.parse(entry).seq;
      const leaf = hash("0x00", ethers.toUtf8Bytes(entry));
      return Number.isInteger(seq) && verifyInclusion(seq, proof.size, leaf, proof.path.map(bytes), proof.root);
    } catch (_) {
      return false;
    }
  }
  window.AccessLog = { check };

  // What the page shows of an entry must be what the proven entry says: the server could
  // otherwise prove one entry and show another.
  function shownAsProven(li, entryText) {
    try {
      const shown = JSON.parse(li.dataset.shown);
      const entry = JSON.parse(entryText);
      return ["action", "outcome", "at", "purpose_code"].every((k) => (entry[k] ?? null) === (shown[k] ?? null))
        && JSON.stringify(entry.fields || []) === JSON.stringify(shown.fields || []);
    } catch (_) {
      return false;
    }
  }
  window.AccessLog.shownAsProven = shownAsProven;

  document.querySelectorAll(".badge.checking").forEach((badge) => {
    let proof = null;
    try {
      proof = JSON.parse(badge.dataset.proof);
    } catch (_) { /* not verified */ }
    const ok = proof !== null && check(badge.dataset.entry, proof)
      && shownAsProven(badge.closest("li.access"), badge.dataset.entry);
    badge.classList.remove("checking");
    badge.classList.add(ok ? "proven" : "unproven");
    badge.textContent = ok ? text.proven : text.unproven;
  });
})();
