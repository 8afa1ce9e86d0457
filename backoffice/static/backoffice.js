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
