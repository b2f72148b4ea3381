// Each access-log entry checked here, not taken on the server's word: the leaf hash is
// recomputed from the entry (SHA-256 of 0x00 and its bytes) and the RFC 9162 audit path is
// followed to the root of the tree head anchored on chain.
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

  document.querySelectorAll(".badge.checking").forEach((badge) => {
    let proof = null;
    try {
      proof = JSON.parse(badge.dataset.proof);
    } catch (_) { /* not verified */ }
    const ok = proof !== null && check(badge.dataset.entry, proof);
    badge.classList.remove("checking");
    badge.classList.add(ok ? "proven" : "unproven");
    badge.textContent = ok ? text.proven : text.unproven;
  });
})();
