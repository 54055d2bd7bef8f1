// Import of transactions from CSV (cases.admin.network_io): the form goes up
// in one multipart POST with a progress bar of the bytes sent (the markup and
// style of the evidence upload's, uploads.js; not its protocol: tus makes
// evidence of the last chunk, an import needs one answer, the report), then
// "checking every row" until the server answers; the report replaces the
// previous one without leaving the page, so the file chosen for "Check the
// file" is still chosen for "Import". Without this script the form posts as
// any other and the page comes back with the report.
(function () {
  "use strict";
  var form = document.getElementById("cb-import-form");
  var box = document.getElementById("cb-import-progress");
  var result = document.getElementById("cb-import-result");
  if (!form || !box || !result || !window.FormData || !window.XMLHttpRequest) { return; }
  var bar = document.getElementById("cb-import-bar");
  var percent = document.getElementById("cb-import-percent");
  var status = document.getElementById("cb-import-status");
  var sending = false;

  function msg(name) { return box.getAttribute("data-msg-" + name) || ""; }
  function say(text, failed) {
    status.textContent = text;
    box.classList.toggle("cb-failed", !!failed);
  }
  function buttons(disabled) {
    Array.prototype.forEach.call(form.querySelectorAll("[type=submit]"), function (b) {
      b.disabled = disabled;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sending) { return; }
    var submitter = event.submitter || form.querySelector("[type=submit].default");
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    sending = true;
    buttons(true);
    result.innerHTML = "";  // the last report spoke of another file
    box.hidden = false;
    bar.value = 0;
    percent.textContent = "0 %";
    say(msg("sending"));
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) { return; }
      var value = Math.floor(e.loaded * 100 / e.total);
      bar.value = value;
      percent.textContent = value + " %";
    };
    xhr.upload.onload = function () {
      bar.value = 100;
      percent.textContent = "100 %";
      say(msg("checking"));
      bar.removeAttribute("value");  // indeterminate while the rows are checked
    };
    xhr.onload = function () {
      sending = false;
      buttons(false);
      if (xhr.status === 200) {
        bar.value = 100;
        percent.textContent = "100 %";
        say(msg("done"));
        result.innerHTML = xhr.responseText;
        result.scrollIntoView({block: "start"});
      } else {
        say(msg("failed") + " (" + xhr.status + ")", true);
      }
    };
    xhr.onerror = function () {
      sending = false;
      buttons(false);
      say(msg("failed"), true);
    };
    xhr.send(data);
  });
})();
