// Drag-and-drop multi-upload with one progress bar per file. Each file goes in its own request
// to the same endpoint the plain form posts to; without JavaScript the form still works.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const list = document.getElementById("upload-progress");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const folder = form.querySelector("input[name=folder]");

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

  function send(file) {
    const li = row(file.name);
    const bar = li.querySelector(".progress-bar");
    const status = li.querySelector(".status");
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
        let answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
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
          status.textContent = answer ? answer.message : "Upload failed (" + xhr.status + ").";
        }
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
