// Sign in: ask the vault for a challenge, sign it here (a key of this browser, or its wallet),
// and trade the signature for a session cookie.
"use strict";
(() => {
  const { text, say, post } = Page;
  const form = document.getElementById("signin");

  // signer: the address of this browser's key, or "ethereum" for the browser's wallet; the
  // pages then sign grants and presentations with the same key.
  async function signIn(address, sign, signer) {
    say(text.working);
    const { challenge } = await post("/auth/challenge", { address });
    const signature = await sign(challenge);
    const { next } = await post("/signin", { challenge, signature, next: form.dataset.next || "" });
    Wallet.rememberSigner(signer);
    // The server sends only a path of this site; the page checks it again before going there.
    const target = new URL(next, window.location.origin);
    window.location.assign(target.origin === window.location.origin ? target.href : "/");
  }

  function render() {
    const keys = Wallet.list();
    const ul = document.getElementById("keys");
    ul.textContent = "";
    document.getElementById("no-keys").hidden = keys.length > 0;
    keys.forEach((k, i) => {
      const li = document.createElement("li");
      const id = `key-${i}`;
      li.innerHTML = `<input type="radio" name="key" id="${id}"><label for="${id}"><code></code></label> <button type="button" class="link"></button>`;
      const radio = li.querySelector("input");
      radio.value = k.address;
      radio.checked = i === keys.length - 1;
      li.querySelector("code").textContent = k.address;
      const exportButton = li.querySelector("button");
      exportButton.textContent = text.export;
      exportButton.setAttribute("aria-label", `${text.export} ${k.address}`);
      exportButton.addEventListener("click", () => Wallet.download(k.address));
      ul.appendChild(li);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=key]:checked");
    if (!chosen) return;
    const password = document.getElementById("password").value;
    let wallet;
    try {
      wallet = await Wallet.unlock(chosen.value, password);
    } catch (_) {
      say(text.badpassword);
      return;
    }
    try {
      await signIn(wallet.address, (challenge) => wallet.signMessage(challenge), wallet.address);
    } catch (error) {
      say(Page.reason(error));
    }
  });

  const walletButton = document.getElementById("wallet");
  walletButton.hidden = !window.ethereum;
  walletButton.addEventListener("click", async () => {
    if (!window.ethereum) return say(text.nowallet);
    try {
      const [address] = await window.ethereum.request({ method: "eth_requestAccounts" });
      await signIn(ethers.getAddress(address), (challenge) =>
        window.ethereum.request({ method: "personal_sign", params: [ethers.hexlify(ethers.toUtf8Bytes(challenge)), address] }), "ethereum");
    } catch (error) {
      say(Page.reason(error));
    }
  });

  document.getElementById("create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const one = document.getElementById("new-password").value;
    const two = document.getElementById("new-password2").value;
    if (one.length < 8) return say(text.short);
    if (one !== two) return say(text.mismatch);
    say(text.working);
    try {
      const { address } = await Wallet.create(one, (done) => say(`${text.working} ${Math.round(done * 100)}%`));
      render();
      document.getElementById("created-address").textContent = address;
      const qr = document.getElementById("created-qr");
      qr.src = `/qr/address/${address}.svg`;
      qr.alt = `${text.address} ${address}`;
      document.getElementById("created").hidden = false;
      say("");
    } catch (error) {
      say(Page.reason(error));
    }
  });

  document.getElementById("import-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      Wallet.add(await file.text());
      render();
      say("");
    } catch (_) {
      say(text.badfile); // not JSON, or JSON but not a keystore v3 file
    }
  });

  render();
})();
