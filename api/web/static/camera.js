// The camera, where the browser allows it: about one frame a second goes to `read`, which sends
// it to the vault (no QR decoder ships to the page) and answers whether it found what it wanted.
"use strict";
const Camera = (() => {
  const can = Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

  async function frame(video) {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    if (!canvas.width || !canvas.height) return null;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return new Promise((done) => canvas.toBlob(done, "image/png"));
  }

  // start (optional) and stop: buttons; read(blob) -> true when done; say(message) for progress.
  function attach({ video, start, stop, read, looking, failed, say }) {
    let stream = null;
    let timer = null;

    function off() {
      clearTimeout(timer);
      if (stream) stream.getTracks().forEach((track) => track.stop());
      stream = null;
      video.hidden = true;
      stop.hidden = true;
      if (start) start.hidden = !can;
    }

    async function look() {
      if (!stream) return;
      const blob = await frame(video);
      if (blob && stream && (await read(blob))) return off();
      if (stream) {
        say(looking);
        timer = setTimeout(look, 900);
      }
    }

    async function on() {
      if (stream) return;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      } catch (_) {
        return say(failed);
      }
      video.srcObject = stream;
      video.hidden = false;
      if (start) start.hidden = true;
      stop.hidden = false;
      await video.play();
      say(looking);
      look();
    }

    if (start) {
      start.hidden = !can;
      start.addEventListener("click", on);
    }
    stop.hidden = true;
    stop.addEventListener("click", () => {
      off();
      say("");
    });
    return { on, off };
  }

  return { can, attach };
})();
