// Length counters under every text field that has a maxlength: "12 / 140".
(function () {
  "use strict";
  document.querySelectorAll("input[maxlength], textarea[maxlength]").forEach(function (field) {
    if (field.type === "hidden" || field.type === "email" || field.type === "url") return;
    var max = parseInt(field.getAttribute("maxlength"), 10);
    var counter = document.createElement("div");
    counter.className = "char-counter";
    counter.setAttribute("aria-live", "polite");
    var update = function () {
      var length = field.value.length;
      counter.textContent = length + " / " + max;
      counter.classList.toggle("is-over", length > max);
    };
    field.insertAdjacentElement("afterend", counter);
    field.addEventListener("input", update);
    update();
  });
})();
