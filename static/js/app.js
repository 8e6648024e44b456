// Small behaviours shared by every page, wired through data attributes: the Content Security
// Policy allows no inline scripts or on*= handlers (docs/security.md).
"use strict";

// <input data-select-on-focus>: select the whole value on focus (one-time secrets to copy).
document.addEventListener("focusin", (event) => {
  const el = event.target;
  if (el instanceof HTMLInputElement && el.hasAttribute("data-select-on-focus")) {
    el.select();
  }
});
