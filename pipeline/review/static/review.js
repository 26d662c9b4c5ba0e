// Keyboard review. Only reads data-* attributes and writes textContent/classes: never
// HTML, so nothing a reviewer or the OCR typed can become markup.
"use strict";
(function () {
  function typing(el) {
    if (!el) return false;
    if (el.tagName === "TEXTAREA") return true;
    return el.tagName === "INPUT" && ["text", "password", "search", "number"].includes(el.type);
  }

  const queuePage = document.getElementById("queue-page");
  if (queuePage && queuePage.dataset.start) {
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !typing(document.activeElement) && !ev.ctrlKey && !ev.altKey) {
        ev.preventDefault();
        window.location.href = queuePage.dataset.start;
      }
    });
  }

  const root = document.getElementById("item");
  if (!root) return;
  const form = document.getElementById("decide");
  const undoForm = document.getElementById("undo");
  const kind = root.dataset.kind;
  const single = root.dataset.single === "true";
  const boxes = form ? Array.from(form.querySelectorAll('input[name="code"]')) : [];
  const buttons = form ? Array.from(form.querySelectorAll("button[name=action]")) : [];
  let pending = null; // "no_answer" or "invalid" when chosen by key, else null
  let sent = false;

  let hint = document.getElementById("key-hint");
  if (!hint && form) {
    hint = document.createElement("p");
    hint.id = "key-hint";
    hint.className = "hint";
    form.appendChild(hint);
  }
  function say(text) { if (hint) hint.textContent = text; }

  function choose(action) {
    pending = action;
    buttons.forEach(function (b) { b.classList.toggle("chosen", b.value === action); });
  }

  function button(action) { return buttons.find(function (b) { return b.value === action; }); }

  function send(action) {
    const b = button(action);
    if (!b || sent) return;
    sent = true;
    form.requestSubmit(b);
  }

  function pick(box) {
    if (single) {
      boxes.forEach(function (b) { b.checked = b === box; });
    } else {
      box.checked = !box.checked;
    }
    choose(null);
  }

  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      if (single && box.checked) boxes.forEach(function (b) { if (b !== box) b.checked = false; });
      choose(null);
    });
  });

  function confirmItem() {
    if (!form) return;
    if (kind === "choice") {
      if (pending) return send(pending);
      if (boxes.some(function (b) { return b.checked; })) return send("answer");
      say(document.documentElement.lang === "en"
        ? "Pick an option, 0 for no answer or x for invalid first."
        : "Hãy chọn phương án, 0 (không trả lời) hoặc x (không hợp lệ) trước.");
      return;
    }
    if (kind === "text") {
      const box = document.getElementById("text");
      if (!pending && box && !box.value.trim()) { say(box.dataset.empty || ""); return; }
      return send(pending || "text");
    }
    if (kind === "page") return send(pending || "assign");
    send(pending || (buttons.length ? buttons[0].value : ""));
  }

  function toggleWhole() {
    const crop = document.getElementById("crop");
    const context = document.getElementById("crop-context");
    const whole = document.getElementById("whole");
    if (!whole) return;
    const showWhole = whole.hidden;
    whole.hidden = !showWhole;
    if (crop) crop.hidden = showWhole;
    if (context) context.hidden = showWhole;
  }

  function go(href) { if (href) window.location.href = href; }

  // Commands that must work while the clerk types in a comment's box are on Alt (by the
  // physical key, so a Telex or other input method cannot turn them into letters): they
  // never type into the box. In a comment's box Esc leaves at once.
  const ALT_COMMANDS = { Digit0: "no_answer", Numpad0: "no_answer", KeyX: "invalid" };

  document.addEventListener("keydown", function (ev) {
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey && ALT_COMMANDS[ev.code] && button(ALT_COMMANDS[ev.code])) {
      ev.preventDefault();
      send(ALT_COMMANDS[ev.code]);
      return;
    }
    if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
    const active = document.activeElement;
    if (typing(active)) {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); confirmItem(); }
      else if (ev.key === "Escape") {
        ev.preventDefault();
        if (kind === "text") go(root.dataset.queue); else active.blur();
      }
      return;
    }
    const key = ev.key;
    if (key === "Enter") { ev.preventDefault(); confirmItem(); return; }
    if (key === "ArrowLeft") { ev.preventDefault(); go(root.dataset.prev); return; }
    if (key === "ArrowRight") { ev.preventDefault(); go(root.dataset.next); return; }
    if (key === "Escape") { go(root.dataset.queue); return; }
    if (key === "Backspace" || key === "u") {
      if (undoForm && !sent) { ev.preventDefault(); sent = true; undoForm.requestSubmit(); }
      return;
    }
    if (key === "p") { toggleWhole(); return; }
    if (!form) return;
    if (key === "0" && button("no_answer")) {
      boxes.forEach(function (b) { b.checked = false; });
      choose("no_answer");
      return;
    }
    if (key === "x" && button("invalid")) {
      boxes.forEach(function (b) { b.checked = false; });
      choose("invalid");
      return;
    }
    const box = boxes.find(function (b) { return b.dataset.key === key; });
    if (box) { ev.preventDefault(); pick(box); return; }
    const keyed = buttons.find(function (b) { return b.dataset.key === key; });
    if (keyed) { ev.preventDefault(); choose(keyed.value); }
  });
})();
