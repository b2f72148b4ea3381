// Reading a CSV file in the page, as spreadsheets write them, with the line each row starts on
// so that a problem is named by the file's own line number.
"use strict";
const Csv = (() => {
  // The file's rows, each with the line it starts on (header = line 1): quoted cells may hold
  // commas, quotes ("") and line breaks; a BOM (Excel) is dropped; CRLF, LF or CR end a line.
  function parse(source) {
    const s = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
    const found = [];
    let cells = [];
    let cell = "";
    let quoted = false;
    let line = 1;
    let start = 1;
    for (let i = 0; i < s.length; i += 1) {
      const c = s[i];
      if (quoted) {
        if (c === '"' && s[i + 1] === '"') {
          cell += '"';
          i += 1;
        } else if (c === '"') {
          quoted = false;
        } else if (c === "\r" || c === "\n") {
          if (c === "\r" && s[i + 1] === "\n") i += 1;
          cell += "\n";
          line += 1;
        } else {
          cell += c;
        }
      } else if (c === '"') {
        quoted = true;
      } else if (c === ",") {
        cells.push(cell);
        cell = "";
      } else if (c === "\r" || c === "\n") {
        if (c === "\r" && s[i + 1] === "\n") i += 1;
        cells.push(cell);
        found.push({ line: start, cells });
        cells = [];
        cell = "";
        line += 1;
        start = line;
      } else {
        cell += c;
      }
    }
    // An unclosed quote swallowed the rest of the file: that row is reported, not read.
    if (!quoted && (cell !== "" || cells.length)) {
      cells.push(cell);
      found.push({ line: start, cells });
    }
    return { rows: found, unclosed: quoted ? start : null };
  }

  return { parse };
})();
