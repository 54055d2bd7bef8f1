// MLA draft form: show the section of each chosen type of assistance only
// (and the preservation section for a preservation request). Without
// JavaScript every section stays visible; sections of types not chosen are
// ignored on save.
(function () {
  "use strict";
  function sync() {
    var kind = document.getElementById("id_kind");
    var preservation = kind ? kind.value === "preservation" : null;
    document.querySelectorAll("fieldset.mla-section").forEach(function (section) {
      var type = Array.prototype.find.call(section.classList, function (c) {
        return c.indexOf("mla-section-") === 0;
      }).slice("mla-section-".length);
      var show;
      if (type === "preservation") {
        show = preservation !== false;
      } else {
        var box = document.querySelector('input[name="assistance_types"][value="' + type + '"]');
        show = preservation !== true && (!box || box.checked);
      }
      section.classList.toggle("mla-hidden", !show);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("fieldset.mla-section")) return;
    document.querySelectorAll('input[name="assistance_types"], #id_kind').forEach(function (el) {
      el.addEventListener("change", sync);
    });
    sync();
  });
})();
