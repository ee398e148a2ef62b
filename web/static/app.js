// SPDX-License-Identifier: EUPL-1.2
// Optional progressive enhancement. Nothing depends on it: every page works without JavaScript.
// On error pages it moves the keyboard focus to the error message.
(function () {
  "use strict";
  var msg = document.querySelector(".error-message");
  if (msg) {
    msg.setAttribute("tabindex", "-1");
    msg.focus();
  }
})();
