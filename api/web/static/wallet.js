// Keys kept in this browser: Ethereum keystore v3 JSON (scrypt), encrypted with the person's
// password, in localStorage. Nothing here is ever sent to the server; only signatures are.
"use strict";
const Wallet = (() => {
  const STORE = "datavault.keystores";

  function list() {
    try {
      const items = JSON.parse(localStorage.getItem(STORE) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (_) {
      return [];
    }
  }

  function save(items) {
    localStorage.setItem(STORE, JSON.stringify(items));
  }

  function addressOf(json) {
    const parsed = JSON.parse(json);
    if (!parsed || parsed.version !== 3 || !parsed.address) throw new Error("not a keystore v3 file");
    return ethers.getAddress("0x" + String(parsed.address).replace(/^0x/i, ""));
  }

  function add(json) {
    const address = addressOf(json);
    const items = list().filter((k) => k.address !== address);
    items.push({ address, json });
    save(items);
    return address;
  }

  // scrypt at ethers' standard cost: seconds on a phone, so the caller is told the progress.
  async function create(password, progress) {
    const wallet = ethers.Wallet.createRandom();
    const json = await wallet.encrypt(password, (done) => progress && progress(done));
    return { address: add(json), wallet };
  }

  async function unlock(address, password) {
    const item = list().find((k) => k.address === address);
    if (!item) throw new Error("no such key in this browser");
    return ethers.Wallet.fromEncryptedJson(item.json, password);
  }

  function download(address) {
    const item = list().find((k) => k.address === address);
    if (!item) return;
    const blob = new Blob([item.json], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `datavault-${address}.json`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(link.href);
  }

  return { list, add, create, unlock, download };
})();
