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

  // The key this tab signed in with: signin.js records it, so a page signs with that key and
  // no other (several people may share a browser at a counter or in a family).
  const SIGNER = "datavault.signer";
  function rememberSigner(address) {
    sessionStorage.setItem(SIGNER, address);
  }
  function signer() {
    return sessionStorage.getItem(SIGNER);
  }

  // Sign EIP-712 typed data as prepared by the vault: with the browser's wallet when the session
  // signed in with it, else with this browser's key, opened by the password.
  async function signTyped(typed, password) {
    const who = signer();
    if (who === "ethereum" && window.ethereum) {
      const [address] = await window.ethereum.request({ method: "eth_requestAccounts" });
      return window.ethereum.request({ method: "eth_signTypedData_v4", params: [address, JSON.stringify(typed)] });
    }
    const text = (typeof Page === "object" && Page.text) || {};
    const keys = list();
    if (!keys.length) throw new Error(text.nokey || "no key in this browser");
    const candidates = keys.filter((k) => !who || k.address === who);
    for (const k of candidates.length ? candidates : keys) {
      let wallet;
      try {
        wallet = await unlock(k.address, password);
      } catch (_) {
        continue; // not this key's password
      }
      const types = { ...typed.types };
      delete types.EIP712Domain;
      return wallet.signTypedData(typed.domain, types, typed.message);
    }
    throw new Error(text.badpassword || "wrong password");
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

  return { list, add, create, unlock, download, rememberSigner, signer, signTyped };
})();
