// Evidence upload in chunks over the tus protocol (/api/v1/uploads/): the form
// is checked and the upload opened without the file (the admin's "upload/"
// view), then the file goes in chunks with a progress bar; after a broken
// link it asks the server where it stands (HEAD) and goes on from there.
// The last chunk makes the document, and the page moves to it. Without this
// script (or without a file chosen) the form posts the file as ever.
(function () {
  "use strict";
  var box = document.getElementById("cb-resumable");
  var form = document.getElementById("document_form");
  if (!box || !form || !window.fetch || !window.FormData || !window.Blob ||
      !window.XMLHttpRequest) { return; }
  var input = form.querySelector("input[type=file][name=file]");
  if (!input) { return; }
  var bar = document.getElementById("cb-upload-progress");
  var percent = document.getElementById("cb-upload-percent");
  var status = document.getElementById("cb-upload-status");
  var chunkSize = parseInt(box.getAttribute("data-chunk-size"), 10) || 8388608;
  var MAX_RETRIES = 20;
  var sending = false;

  function msg(name) { return box.getAttribute("data-msg-" + name) || ""; }
  function csrf() {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function say(text, failed) {
    status.textContent = text;
    box.classList.toggle("cb-failed", !!failed);
  }
  function progress(done, total) {
    var value = total ? Math.floor(done * 100 / total) : 0;
    bar.value = value;
    percent.textContent = value + " %";
  }
  function submitButtons(disabled) {
    Array.prototype.forEach.call(form.querySelectorAll("[type=submit]"), function (b) {
      b.disabled = disabled;
    });
  }

  // Field errors as the admin shows them: a list above the field's row.
  function showErrors(errors) {
    Array.prototype.forEach.call(form.querySelectorAll(".cb-js-errors"), function (e) {
      e.remove();
    });
    Object.keys(errors || {}).forEach(function (field) {
      var list = document.createElement("ul");
      list.className = "errorlist cb-js-errors";
      errors[field].forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      });
      var row = form.querySelector(".field-" + field) || box;
      row.parentNode.insertBefore(list, row);
    });
    say(msg("invalid"), true);
  }

  function fail(text) {
    sending = false;
    submitButtons(false);
    say(text || msg("failed"), true);
  }

  function problemOf(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      var details = (body.errors || []).map(function (e) { return e.detail; });
      return details.length ? details.join(" ") : body.detail;
    } catch (e) {
      return "";
    }
  }

  function upload(file, location, doneUrl) {
    var failures = 0;

    function retry() {
      failures += 1;
      if (failures > MAX_RETRIES) { fail(); return; }
      say(msg("resuming"));
      var wait = Math.min(1000 * Math.pow(2, failures - 1), 15000);
      window.setTimeout(function () {
        fetch(location, {
          method: "HEAD", credentials: "same-origin", cache: "no-store",
          headers: {"Tus-Resumable": "1.0.0"}
        }).then(function (response) {
          if (response.status === 404) { fail(msg("gone")); return; }
          if (!response.ok) { retry(); return; }
          send(parseInt(response.headers.get("Upload-Offset"), 10));
        }, retry);
      }, wait);
    }

    function send(offset) {
      var end = Math.min(offset + chunkSize, file.size);
      var xhr = new XMLHttpRequest();
      xhr.open("PATCH", location);
      xhr.setRequestHeader("Tus-Resumable", "1.0.0");
      xhr.setRequestHeader("Upload-Offset", String(offset));
      xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
      xhr.setRequestHeader("X-CSRFToken", csrf());
      xhr.upload.onprogress = function (event) { progress(offset + event.loaded, file.size); };
      xhr.onload = function () {
        if (xhr.status === 204) {
          failures = 0;
          var next = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
          progress(next, file.size);
          if (next >= file.size) {
            window.location.assign(doneUrl);
            return;
          }
          say(msg("sending"));
          send(next);
        } else if (xhr.status === 409 || xhr.status === 423 || xhr.status === 429 ||
                   xhr.status >= 500) {
          retry();
        } else if (xhr.status === 404) {
          fail(msg("gone"));
        } else {
          fail(problemOf(xhr) + " " + msg("failed"));
        }
      };
      xhr.onerror = retry;
      xhr.ontimeout = retry;
      if (end >= file.size) { say(msg("checking")); }
      xhr.send(file.slice(offset, end));
    }

    say(msg("sending"));
    send(0);
  }

  form.addEventListener("submit", function (event) {
    var file = input.files && input.files[0];
    if (!file) { return; }  // the server says what is missing, as without script
    event.preventDefault();
    if (sending) { return; }
    sending = true;
    submitButtons(true);
    box.hidden = false;
    progress(0, file.size);
    var data = new FormData(form);
    data.delete("file");
    data.append("file_name", file.name);
    data.append("file_size", String(file.size));
    fetch(box.getAttribute("data-start-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": csrf(), "Accept": "application/json"}
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.status !== 201) {
          sending = false;
          submitButtons(false);
          showErrors(body.errors);
          return;
        }
        upload(file, body.location, body.done_url);
      });
    }).catch(function () { fail(); });
  });
})();
