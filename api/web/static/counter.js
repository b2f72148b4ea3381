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
      say(error.message);
      return null;
    }
  }

  // The camera, where the browser allows it: a frame about every second goes to the same
  // picture check until one holds a QR code (the vault reads it; no decoder ships to the page).
  const video = document.getElementById("camera");
  const start = document.getElementById("camera-start");
  const stop = document.getElementById("camera-stop");
  const canFilm = Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  let stream = null;
  let timer = null;
  function cameraOff() {
    clearTimeout(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = !canFilm;
  }
  async function look() {
    if (!stream) return;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    if (canvas.width && canvas.height) {
      canvas.getContext("2d").drawImage(video, 0, 0);
      const frame = await new Promise((done) => canvas.toBlob(done, "image/png"));
      const verdict = frame && (await verify(frame, true));
      const unread = !verdict || (verdict.checks.length === 1 && verdict.checks[0].name === "qr_image");
      if (!unread) return cameraOff();
      document.getElementById("verdict").hidden = true;
      say(text.looking);
    }
    timer = setTimeout(look, 900);
  }
  if (canFilm) {
    start.hidden = false;
    start.addEventListener("click", async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      } catch (_) {
        return say(text.nocamera);
      }
      video.srcObject = stream;
      video.hidden = false;
      start.hidden = true;
      stop.hidden = false;
      await video.play();
      say(text.looking);
      look();
    });
    stop.addEventListener("click", () => { cameraOff(); say(""); });
  }
  window.Counter = { verify };

  const form = document.getElementById("verify");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = document.getElementById("picture").files[0];
    if (file) verify(file);
  });
  // Esc clears the verdict for the next person in the queue.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    cameraOff();
    form.reset();
    document.getElementById("verdict").hidden = true;
    say("");
  });
})();
