// Drag-and-drop multi-upload with one progress bar per file. A small file goes in one request
// to the same endpoint the plain form posts to; a file larger than one chunk goes through a
// resumable upload session (docs/assets.md, "Resumable uploads"): chunks at the server's offset,
// a failed chunk retried with backoff, and the session remembered in localStorage so that the
// same file chosen or dropped again after a reload continues where it stopped. Without
// JavaScript the form still works.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const list = document.getElementById("upload-progress");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const folder = form.querySelector("input[name=folder]");
  const sessionsUrl = form.dataset.sessionsUrl;
  const chunkBytes = parseInt(form.dataset.chunkBytes || "0", 10);
  const MAX_RETRIES = 6;

  function parseJSON(text) {
    try { return JSON.parse(text); } catch (err) { return null; }
  }

  function bytesLabel(n) {
    if (n >= 1024 * 1024 * 1024) return (n / (1024 * 1024 * 1024)).toFixed(2) + " GB";
    if (n >= 1024 * 1024) return (n / (1024 * 1024)).toFixed(1) + " MB";
    if (n >= 1024) return Math.round(n / 1024) + " KB";
    return n + " bytes";
  }

  function guessType(file) {
    if (file.type) return file.type;
    const name = file.name.toLowerCase();
    if (name.endsWith(".mp4") || name.endsWith(".m4v")) return "video/mp4";
    if (name.endsWith(".mov")) return "video/quicktime";
    if (name.endsWith(".jpg") || name.endsWith(".jpeg")) return "image/jpeg";
    if (name.endsWith(".png")) return "image/png";
    if (name.endsWith(".webp")) return "image/webp";
    return "application/octet-stream";
  }

  // One request of the session protocol; resolves with {status, body, offset} whatever the HTTP
  // status, rejects only when no answer came (the connection dropped).
  function call(method, url, body, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrf);
      Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (onProgress) {
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) onProgress(e.loaded); };
      }
      xhr.onload = function () {
        const offset = xhr.getResponseHeader("Upload-Offset");
        resolve({
          status: xhr.status,
          body: parseJSON(xhr.responseText),
          offset: offset === null ? null : parseInt(offset, 10),
        });
      };
      xhr.onerror = function () { reject(new Error("connection lost")); };
      xhr.ontimeout = xhr.onerror;
      xhr.send(body === undefined ? null : body);
    });
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function storageKey(file) {
    return "sa-upload:" + file.name + ":" + file.size + ":" + file.lastModified;
  }

  function remembered(key) {
    try { return localStorage.getItem(key); } catch (err) { return null; }
  }

  function remember(key, url) {
    try {
      if (url) localStorage.setItem(key, url); else localStorage.removeItem(key);
    } catch (err) { /* private mode: the upload still works, it just cannot resume after reload */ }
  }

  async function openSession(file, key) {
    const saved = remembered(key);
    if (saved) {
      try {
        const found = await call("GET", saved);
        if (found.status === 200 && found.body && found.body.status === "open") return found.body;
      } catch (err) { /* offline: fall through, creating will fail the same way */ }
      remember(key, null);
    }
    const declared = {
      name: file.name,
      size: file.size,
      type: guessType(file),
      folder: folder ? folder.value : "",
    };
    const created = await call("POST", sessionsUrl, JSON.stringify(declared), {
      "Content-Type": "application/json",
    });
    if (created.status !== 201) throw { answer: created.body, status: created.status };
    remember(key, created.body.url);
    return created.body;
  }

  async function sendResumable(file, bar, status) {
    const key = storageKey(file);
    function progress(done) {
      const pct = file.size ? Math.floor((done / file.size) * 100) : 100;
      bar.style.width = pct + "%";
      bar.parentElement.setAttribute("aria-valuenow", pct);
      status.textContent = bytesLabel(done) + " of " + bytesLabel(file.size) + " · " + pct + " %";
    }
    let session;
    try {
      session = await openSession(file, key);
    } catch (err) {
      showAnswer(err && err.answer ? err.answer : { message: "Upload failed: the connection was lost." }, bar, status, err && err.status);
      return;
    }
    let offset = session.offset;
    let retries = 0;
    if (offset > 0) status.textContent = "resuming…";
    progress(offset);
    while (offset < file.size) {
      const piece = file.slice(offset, Math.min(offset + chunkBytes, file.size));
      const at = offset;
      let answer;
      try {
        answer = await call(
          "PATCH", session.url, piece,
          { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(at) },
          function (loaded) { progress(at + loaded); }
        );
      } catch (err) {
        answer = null;
      }
      if (answer && answer.status === 200 && answer.offset !== null) {
        offset = answer.offset;
        retries = 0;
        progress(offset);
        continue;
      }
      if (answer && answer.status === 409 && answer.body && typeof answer.body.offset === "number"
          && answer.body.code === "offset_mismatch") {
        offset = answer.body.offset; // the server has more (or less) than we thought: go on from there
        continue;
      }
      if (answer && answer.status >= 400 && answer.status < 500) {
        remember(key, null); // the session cannot go on (expired, failed, refused)
        showAnswer(answer.body, bar, status, answer.status);
        return;
      }
      // No answer, or the server failed: wait longer each time, then ask where we stand.
      retries += 1;
      if (retries > MAX_RETRIES) {
        bar.classList.add("bg-warning");
        status.className = "status text-danger";
        status.textContent = "Paused at " + bytesLabel(offset) + ": the connection was lost. "
          + "Choose or drop the same file again to continue.";
        return;
      }
      const wait = Math.min(30000, 1000 * Math.pow(2, retries - 1));
      status.textContent = "connection lost, retrying in " + Math.round(wait / 1000) + " s…";
      await sleep(wait);
      try {
        const where = await call("HEAD", session.url);
        if (where.status === 200 && where.offset !== null) offset = where.offset;
      } catch (err) { /* still offline: the next attempt waits longer */ }
    }
    status.textContent = "checking…";
    let done;
    try {
      done = await call("POST", session.complete_url);
    } catch (err) {
      status.className = "status text-danger";
      status.textContent = "The file arrived but the answer was lost: reload the page to see it.";
      return;
    }
    remember(key, null);
    showAnswer(done.body, bar, status, done.status);
  }

  function row(name) {
    const li = document.createElement("li");
    li.className = "py-2 border-top";
    li.innerHTML =
      '<div class="d-flex justify-content-between small"><span class="name text-truncate"></span><span class="status text-secondary">waiting</span></div>' +
      '<div class="progress mt-1" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div class="progress-bar"></div></div>';
    // Width through the CSSOM: the Content Security Policy refuses style="" attributes.
    li.querySelector(".progress-bar").style.width = "0%";
    li.querySelector(".name").textContent = name;
    list.appendChild(li);
    return li;
  }

  function addCard(asset) {
    const grid = document.getElementById("asset-grid");
    if (!grid) return;
    const empty = document.getElementById("empty-library");
    if (empty) empty.remove();
    const li = document.createElement("li");
    li.className = "col";
    const a = document.createElement("a");
    a.className = "card h-100 text-decoration-none asset-card";
    a.href = asset.url;
    let img;
    if (asset.status === "processing") {
      // A video is probed in the background: its poster frame comes later.
      img = document.createElement("div");
      img.className = "card-img-top asset-thumb asset-placeholder";
      img.textContent = "Processing…";
    } else {
      img = document.createElement("img");
      img.className = "card-img-top asset-thumb";
      img.src = asset.thumbnail;
      img.alt = asset.name;
    }
    const body = document.createElement("div");
    body.className = "card-body p-2 small text-truncate";
    body.textContent = asset.name;
    a.append(img, body);
    li.appendChild(a);
    grid.prepend(li);
  }

  function showAnswer(answer, bar, status, httpStatus) {
    bar.style.width = "100%";
    if (answer && answer.status === "created") {
      bar.classList.add("bg-success");
      status.textContent = "uploaded";
      addCard(answer.asset);
    } else if (answer && answer.status === "duplicate") {
      bar.classList.add("bg-info");
      status.textContent = answer.message;
    } else {
      bar.classList.add("bg-danger");
      status.className = "status text-danger";
      status.textContent = answer ? answer.message : "Upload failed (" + httpStatus + ").";
    }
  }

  function send(file) {
    const li = row(file.name);
    const bar = li.querySelector(".progress-bar");
    const status = li.querySelector(".status");
    if (chunkBytes > 0 && file.size > chunkBytes) return sendResumable(file, bar, status);
    const data = new FormData();
    data.append("csrfmiddlewaretoken", csrf);
    if (folder) data.append("folder", folder.value);
    data.append("files", file);
    return new Promise(function (resolve) {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.uploadUrl);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        const pct = Math.round((e.loaded / e.total) * 100);
        bar.style.width = pct + "%";
        bar.parentElement.setAttribute("aria-valuenow", pct);
        status.textContent = pct < 100 ? pct + "%" : "checking…";
      };
      xhr.onload = function () {
        showAnswer(parseJSON(xhr.responseText), bar, status, xhr.status);
        resolve();
      };
      xhr.onerror = function () {
        bar.classList.add("bg-danger");
        status.textContent = "Upload failed: the connection was lost.";
        resolve();
      };
      xhr.send(data);
    });
  }

  async function uploadAll(files) {
    for (const file of files) await send(file); // one at a time keeps progress readable
    input.value = "";
  }

  input.addEventListener("change", function () { uploadAll(Array.from(input.files)); });
  ["dragenter", "dragover"].forEach(function (type) {
    form.addEventListener(type, function (e) { e.preventDefault(); form.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    form.addEventListener(type, function (e) { e.preventDefault(); form.classList.remove("dragging"); });
  });
  form.addEventListener("drop", function (e) { uploadAll(Array.from(e.dataTransfer.files)); });
})();
