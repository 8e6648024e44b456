// The compose page: a live caption counter, image order numbers that follow the ticks, and a
// filter over the image picker. Everything here is a convenience: without JavaScript the form
// posts the same fields and the page renders the preview itself.
(function () {
  "use strict";
  const form = document.getElementById("compose-form");
  if (!form) return;

  // Same patterns as the server's caption analysis (apps/networks/text.py).
  const HASHTAG = /(?<![\p{L}\p{N}_&])#([\p{L}\p{N}_]+)/gu;
  const MENTION = /(?<![\p{L}\p{N}_@])@([A-Za-z0-9_.]+)/g;

  // The Reel's options show for a Reel (without JavaScript they are always there).
  const reel = document.getElementById("reel-options");
  if (reel) {
    const follow = function () {
      const chosen = form.querySelector("input[name=format]:checked");
      reel.hidden = !chosen || chosen.value !== "reel";
    };
    form.querySelectorAll("input[name=format]").forEach(function (input) {
      input.addEventListener("change", follow);
    });
    follow();
  }

  const counter = document.getElementById("caption-counter");
  if (counter) {
    const source = document.getElementById(counter.dataset.source);
    const out = counter.querySelector(".counts");
    // The strictest network's limits; an empty one is no limit.
    const limit = function (value) { return value === "" ? Infinity : Number(value); };
    const limits = {
      chars: limit(counter.dataset.maxChars),
      tags: limit(counter.dataset.maxHashtags),
      mentions: limit(counter.dataset.maxMentions),
    };
    const count = function () {
      const text = source.value;
      const chars = Array.from(text).length; // code points, as the server counts
      const tags = (text.match(HASHTAG) || []).length;
      const mentions = (text.match(MENTION) || []).length;
      const plural = function (n, word) { return n + " " + word + (n === 1 ? "" : "s"); };
      out.textContent =
        plural(chars, "character") + " · " + plural(tags, "hashtag") + " · " +
        plural(mentions, "mention") + ". ";
      const over = chars > limits.chars || tags > limits.tags || mentions > limits.mentions;
      out.classList.toggle("text-danger", over);
      out.classList.toggle("fw-semibold", over);
    };
    source.addEventListener("input", count);
    count();
  }

  // Ticking an image gives it the next number; unticking clears it and closes the gap.
  const picker = document.getElementById("asset-picker");
  if (picker) {
    const boxes = Array.from(picker.querySelectorAll("input[name=assets]"));
    const positionOf = function (box) {
      return document.getElementById("position-" + box.value);
    };
    const renumber = function () {
      const chosen = boxes
        .filter(function (b) { return b.checked; })
        .sort(function (a, b) {
          const pa = Number(positionOf(a).value) || 1000;
          const pb = Number(positionOf(b).value) || 1000;
          return pa - pb;
        });
      chosen.forEach(function (b, i) { positionOf(b).value = i + 1; });
      boxes.forEach(function (b) {
        if (!b.checked) positionOf(b).value = "";
        b.closest(".card").classList.toggle("border-primary", b.checked);
      });
    };
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        if (box.checked && !positionOf(box).value) positionOf(box).value = 1000;
        renumber();
      });
      positionOf(box).addEventListener("change", function () {
        if (positionOf(box).value && !box.checked) box.checked = true;
      });
    });

    const filterBox = document.getElementById("asset-filter-box");
    const filter = document.getElementById("asset-filter");
    if (filterBox && filter) {
      filterBox.hidden = false;
      // Filtering is not an edit of the post: keep its events from asking for a preview.
      filter.addEventListener("change", function (event) { event.stopPropagation(); });
      filter.addEventListener("input", function (event) {
        event.stopPropagation();
        const q = filter.value.trim().toLowerCase();
        picker.querySelectorAll("li[data-search]").forEach(function (li) {
          li.hidden = q !== "" && li.dataset.search.indexOf(q) === -1;
        });
      });
    }
  }
})();
