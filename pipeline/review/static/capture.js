// The capture page: each photo is sent as soon as it is taken and its answer shown on top.
// Writes textContent only (never HTML): what the server says cannot become markup.
"use strict";
(function () {
  const root = document.getElementById("capture");
  if (!root) return;
  const input = document.getElementById("photo");
  const results = document.getElementById("results");
  let queue = Promise.resolve();

  function add(parent, tag, cls, text) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined && text !== null) el.textContent = text;
    parent.appendChild(el);
    return el;
  }

  function show(item, answer, ms) {
    item.textContent = "";
    item.className = "result " + (answer.ok ? "ok" : "bad");
    item.dataset.status = answer.status || "";
    add(item, "p", "headline", answer.headline || "");
    if (answer.detail) add(item, "p", "detail", answer.detail);
    if (answer.flags && answer.flags.length) {
      const list = add(item, "ul", "flags");
      answer.flags.forEach(function (f) {
        add(list, "li", "flag", f.label + (f.question ? " — " + f.question : ""));
      });
    }
    if (answer.image) {
      const img = add(item, "img");
      img.src = answer.image;
      img.alt = "";
    }
    add(item, "p", "time", (ms / 1000).toFixed(1) + " s");
    if (!answer.ok && answer.status !== "duplicate" && answer.status !== "sent_before") {
      const again = add(item, "button", "again primary", root.dataset.again);
      again.type = "button";
      again.addEventListener("click", function () { input.click(); });
    }
  }

  function send(file) {
    const item = document.createElement("li");
    item.className = "result pending";
    item.textContent = root.dataset.reading + " " + file.name;
    results.insertBefore(item, results.firstChild);
    const body = new FormData();
    body.append("photo", file);
    const started = performance.now();
    return fetch(root.dataset.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": root.dataset.csrf },
    }).then(function (response) {
      return response.json().catch(function () {
        const text = response.status === 413 ? root.dataset.tooLarge : "HTTP " + response.status;
        return { ok: false, status: "refused", headline: text };
      });
    }).then(function (answer) {
      show(item, answer, performance.now() - started);
    }).catch(function () {
      show(item, { ok: false, status: "refused", headline: root.dataset.lost }, performance.now() - started);
    });
  }

  input.addEventListener("change", function () {
    const files = Array.from(input.files || []);
    input.value = "";  // the same file may be chosen again
    files.forEach(function (file) { queue = queue.then(function () { return send(file); }); });
  });
})();
