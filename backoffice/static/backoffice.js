// Flask-Admin 2.2's templates use a few inline onclick handlers, which our Content-Security-Policy
// (no 'unsafe-inline' scripts) blocks. Their text is read here, never evaluated, and the same
// behaviour is bound as ordinary listeners.
(function () {
  "use strict";
  function argument(text, name) {
    var match = new RegExp(name + "\\((?:this,\\s*)?'((?:[^'\\\\]|\\\\.)*)'").exec(text || "");
    return match ? match[1].replace(/\\'/g, "'") : null;
  }
  document.addEventListener("click", function (event) {
    var element = event.target.closest("[onclick]");
    if (!element) { return; }
    var code = element.getAttribute("onclick");
    if (code.indexOf("safeConfirm") !== -1) {
      if (!window.confirm(argument(code, "safeConfirm"))) { event.preventDefault(); }
    } else if (code.indexOf("modelActions.execute") !== -1) {
      event.preventDefault();
      window.modelActions.execute(argument(code, "execute"));
    } else if (code.indexOf("faForm.addInlineField") !== -1) {
      event.preventDefault();
      window.faForm.addInlineField(element, argument(code, "addInlineField"));
    } else if (code.indexOf("return false") !== -1) {
      event.preventDefault();
    }
  }, true);
})();

// Select2 (Flask-Admin's choice widget) draws a link with no name in place of each <select>:
// it is given its field's label, so that a screen reader says what it chooses (RGAA 11.1).
(function () {
  "use strict";
  function nameSelect2Widgets() {
    var widgets = document.querySelectorAll(".select2-container[id^='s2id_']");
    Array.prototype.forEach.call(widgets, function (widget) {
      var field = widget.id.slice(5);
      var label = document.querySelector("label[for='" + field + "']");
      var text = label ? label.textContent.replace(/\s+/g, " ").trim() : field;
      var choice = widget.querySelector(".select2-choice, .select2-choices input");
      if (choice && !choice.getAttribute("aria-label")) { choice.setAttribute("aria-label", text); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    window.setTimeout(nameSelect2Widgets, 0);  // after Flask-Admin's own ready handlers
  });
  document.addEventListener("click", function () { window.setTimeout(nameSelect2Widgets, 0); });
})();

// Forms are checked by the server, which answers in French with a summary of the errors linked to
// their fields (issue #12): the browser's own bubbles (in the browser's language, one field at a
// time, gone on the next keystroke) are turned off. Fields keep `required`, which screen readers
// announce.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form.admin-form"), function (form) {
    form.noValidate = true;
  });
  var summary = document.getElementById("erreurs");
  if (summary && document.activeElement !== summary) { summary.focus(); }
})();
