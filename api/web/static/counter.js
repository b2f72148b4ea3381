// The counter: a picture of a presentation's QR code goes to the vault, which reads and
// verifies it; every check comes back passed or failed, in plain words.
"use strict";
(() => {
  const { text, say } = Page;

  // Returns the verdict, or null when the call failed.
  async function verify(picture, quiet) {
    if (!quiet) say(text.working);
    try {
      const verdict = await Page.call("/presentations/verify/image", { body: picture, type: picture.type || "image/png" });
      const heading = document.getElementById("verdict-h");
      heading.textContent = verdict.valid ? text.valid : text.invalid;
      heading.className = verdict.valid ? "verdict ok" : "verdict bad";
      const c = verdict.credential;
      Page.pairs(document.getElementById("credential"), c ? [[text.title, c.title], [text.issuer, verdict.issuer_name || c.issuer_code]] : []);
      const disclosed = Object.entries(verdict.disclosed || {});
      Page.pairs(document.getElementById("disclosed"), disclosed.length ? disclosed : [[text.none, ""]]);
      Page.checks(document.getElementById("checks"), verdict.checks);
      document.getElementById("verdict").hidden = false;
      say("");
      return verdict;
    } catch (error) {
      say(Page.reason(error));
      return null;
    }
  }

  // A frame is read when the vault found a QR code in it (whatever its verdict).
  const camera = Camera.attach({
    video: document.getElementById("camera"),
    start: document.getElementById("camera-start"),
    stop: document.getElementById("camera-stop"),
    looking: text.looking,
    failed: text.nocamera,
    say,
    read: async (frame) => {
      const verdict = await verify(frame, true);
      const unread = !verdict || (verdict.checks.length === 1 && verdict.checks[0].name === "qr_image");
      if (unread) document.getElementById("verdict").hidden = true;
      return !unread;
    },
  });
  window.Counter = { verify };

  const form = document.getElementById("verify");
  const picture = document.getElementById("picture");
  const IMAGES = ["image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp"];
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = picture.files[0];
    if (!file) return say(text.nofile);
    // A file that is not a picture is named as such here, before the vault looks for a QR code.
    if (file.type && !IMAGES.includes(file.type)) {
      document.getElementById("verdict").hidden = true;
      return say(text.notimage);
    }
    verify(file);
  });
  // Enter verifies (on the picture input too, where a browser would open the file chooser).
  picture.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    form.requestSubmit();
  });
  // Esc clears the verdict for the next person in the queue.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    camera.off();
    form.reset();
    document.getElementById("verdict").hidden = true;
    say("");
  });
})();
