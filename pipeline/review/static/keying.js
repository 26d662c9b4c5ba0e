// Keying in an unreadable page (the form #keyin): one field per question, one key per
// answer, the focus moving on by itself. On a page the machine read by its print, its sure
// answers are filled in and Enter goes to the next field still empty (the serial, a
// question it was unsure of): the clerk types the serial, checks, and Enter saves. Keys
// pressed inside the form stay in it (the item page's own keys, review.js, must not see
// them). Writes no HTML.
"use strict";
(function () {
  const form = document.getElementById("keyin");
  if (!form) return;
  const formChoice = document.getElementById("key-form");
  const pageChoice = document.getElementById("key-page");
  const serial = document.getElementById("key-serial");
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
    list.push(serial);
    blocks.forEach(function (b) {
      if (!b.disabled) list.push.apply(list, Array.from(b.querySelectorAll(".key-answer")));
    });
    return list.filter(Boolean);
  }

  // A comment's "illegible" box (its textarea's id in data-for).
  function illegibleOf(el) {
    return el.id ? form.querySelector('input[data-for="' + el.id + '"]') : null;
  }

  // Still to key: the serial, a choice, a comment the machine saw but was unsure of (and
  // not marked illegible).
  function empty(el) {
    if (el === serial) return el.value.trim() === "";
    if (el.disabled) return false;
    return el.dataset && el.dataset.needed === "true" && el.value.trim() === "";
  }

  // Marked illegible, a comment's text is not sent (the two exclude each other).
  function markIllegible(box) {
    const text = document.getElementById(box.dataset.for);
    if (text) text.disabled = box.checked;
  }

  function go(el) {
    el.focus();
    // a filled-in answer is replaced by what is typed over it (a comment's text is not)
    if (el.tagName === "INPUT" && el.value) el.select();
  }

  function next(from) {
    const list = fields();
    const i = list.indexOf(from);
    if (i >= 0 && i + 1 < list.length) { go(list[i + 1]); return true; }
    return false;
  }

  function nextEmpty(from) {
    const list = fields();
    const i = list.indexOf(from);
    const after = list.slice(i + 1).concat(list.slice(0, Math.max(i, 0)));
    const target = after.find(empty);
    if (target) { go(target); return true; }
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

  form.querySelectorAll("input[data-for]").forEach(function (box) {
    markIllegible(box);
    box.addEventListener("change", function () { markIllegible(box); });
  });

  form.addEventListener("input", function (ev) {
    const el = ev.target;
    if (!el.classList || !el.classList.contains("key-answer")) return;
    // what the machine filled in, changed: no longer the machine's
    if (el.value !== el.defaultValue) el.classList.remove("prefilled");
    if (el.value.trim() !== "") el.classList.remove("unsure");
    if (el.tagName !== "INPUT") return;
    const ok = fits(el) || el.value === "";
    el.classList.toggle("bad", !ok);
    // A single choice is one key: on to the next question at once.
    if (el.dataset.single === "true" && el.value.length === 1 && fits(el)) next(el);
  });

  form.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") return; // review.js: leave the field, then the queue
    ev.stopPropagation();
    // Alt+X on a comment: illegible, as in the transcription review
    const box = ev.altKey && ev.key.toLowerCase() === "x" ? illegibleOf(ev.target) : null;
    if (box) {
      ev.preventDefault();
      box.checked = true;
      markIllegible(box);
      if (!nextEmpty(ev.target)) box.focus();
      return;
    }
    if (ev.key !== "Enter" || ev.shiftKey || ev.ctrlKey || ev.altKey) return;
    if (ev.target.tagName === "BUTTON") return;
    ev.preventDefault();
    if (!nextEmpty(ev.target)) form.requestSubmit(document.getElementById("btn-key_in"));
  });

  sync();
})();
