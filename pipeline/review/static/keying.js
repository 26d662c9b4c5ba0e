// Keying in an unreadable page (the form #keyin): one field per question, one key per
// answer, the focus moving on by itself. Keys pressed inside the form stay in it (the
// item page's own keys, review.js, must not see them). Writes no HTML.
"use strict";
(function () {
  const form = document.getElementById("keyin");
  if (!form) return;
  const formChoice = document.getElementById("key-form");
  const pageChoice = document.getElementById("key-page");
  const blocks = Array.from(form.querySelectorAll("fieldset.keyblock"));

  function sync() {
    blocks.forEach(function (b) {
      const on = b.dataset.form === formChoice.value && b.dataset.page === pageChoice.value;
      b.disabled = !on;
      b.hidden = !on;
    });
  }

  function fields() {
    const list = [formChoice, pageChoice].filter(function (el) {
      return el && el.tagName === "SELECT";
    });
    list.push(document.getElementById("key-serial"));
    blocks.forEach(function (b) {
      if (!b.disabled) list.push.apply(list, Array.from(b.querySelectorAll(".key-answer")));
    });
    return list.filter(Boolean);
  }

  function advance(from) {
    const list = fields();
    const i = list.indexOf(from);
    if (i >= 0 && i + 1 < list.length) { list[i + 1].focus(); return true; }
    return false;
  }

  function fits(input) {
    const keys = (input.dataset.keys || "") + "0x";
    const typed = input.value.replace(/[\s|,]/g, "");
    return typed.length > 0 && Array.from(typed).every(function (c) { return keys.includes(c); });
  }

  [formChoice, pageChoice].forEach(function (el) {
    if (el && el.tagName === "SELECT") el.addEventListener("change", sync);
  });

  form.addEventListener("input", function (ev) {
    const el = ev.target;
    if (!el.classList || !el.classList.contains("key-answer") || el.tagName !== "INPUT") return;
    const ok = fits(el) || el.value === "";
    el.classList.toggle("bad", !ok);
    // A single choice is one key: on to the next question at once.
    if (el.dataset.single === "true" && el.value.length === 1 && fits(el)) advance(el);
  });

  form.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") return; // review.js: leave the field, then the queue
    ev.stopPropagation();
    if (ev.key !== "Enter" || ev.shiftKey || ev.ctrlKey || ev.altKey) return;
    if (ev.target.tagName === "BUTTON") return;
    ev.preventDefault();
    if (!advance(ev.target)) form.requestSubmit(document.getElementById("btn-key_in"));
  });

  sync();
})();
