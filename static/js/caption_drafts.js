// "Draft with AI" on the compose page (templates/posts/_caption_panel.html). htmx posts the form
// to posts:caption_suggest and swaps in the suggestions; this file only
// - puts a suggestion into the caption on "Use this" (and lets the counter and preview follow),
// - shows the server's explanation on an error status (htmx leaves 4xx/5xx unswapped),
// - says so when the server cannot be reached, so the panel never sits silent.
// Without JavaScript the same buttons submit the form and the page comes back with the result.
(function () {
  "use strict";
  const panel = document.getElementById("caption-drafting");
  const form = document.getElementById("compose-form");
  if (!panel || !form) return;
  const results = document.getElementById("caption-suggestions");
  const details = document.getElementById("item-details");

  // Typing the details is not an edit of the post: keep it from asking for a preview.
  if (details) {
    ["input", "change"].forEach(function (type) {
      details.addEventListener(type, function (event) { event.stopPropagation(); });
    });
  }

  // "Use this": the suggestion (text and hashtags) becomes the caption, ready to edit.
  panel.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-use-caption]");
    if (!button) return;
    event.preventDefault();
    const caption = form.querySelector("textarea[name=caption]");
    if (!caption) return;
    caption.value = button.value;
    // Marked as drafted with AI; the person may untick it.
    const drafted = form.querySelector("input[name=caption_ai_generated]");
    if (drafted) drafted.checked = true;
    // The caption counter listens to "input", the live preview to "input"/"change".
    caption.dispatchEvent(new Event("input", { bubbles: true }));
    caption.dispatchEvent(new Event("change", { bubbles: true }));
    caption.focus();
    caption.setSelectionRange(0, 0);
    caption.scrollTop = 0;
  });

  const show = function (message) {
    const alert = document.createElement("div");
    alert.className = "alert alert-danger py-2 mb-2";
    alert.setAttribute("role", "alert");
    alert.textContent = message;
    const old = results.querySelector("[data-client-error]");
    if (old) old.remove();
    alert.dataset.clientError = "";
    results.prepend(alert);
  };

  const fromPanel = function (event) {
    return event.detail && event.detail.elt && panel.contains(event.detail.elt);
  };

  // The view answers 400 / 429 / 502 with the partial explaining why: show it.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (!fromPanel(event) || event.detail.target !== results) return;
    const status = event.detail.xhr.status;
    if (status === 400 || status === 429 || status === 502) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.body.addEventListener("htmx:responseError", function (event) {
    if (!fromPanel(event)) return;
    const status = event.detail.xhr.status;
    if (status === 400 || status === 429 || status === 502) return; // swapped above
    show(
      status === 403
        ? "Drafting is not allowed for your role, or your session ended. Reload the page."
        : "Something went wrong while drafting (HTTP " + status + "). Your caption is unchanged; try again."
    );
  });
  document.body.addEventListener("htmx:sendError", function (event) {
    if (!fromPanel(event)) return;
    show("The server could not be reached. Your caption is unchanged; check the connection and try again.");
  });
  document.body.addEventListener("htmx:timeout", function (event) {
    if (!fromPanel(event)) return;
    show("Drafting took too long. Your caption is unchanged; try again.");
  });
})();
