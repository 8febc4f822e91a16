// Show how many characters the text has against the limit, as the user types.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const textarea = document.getElementById("id_text");
  const counter = document.getElementById("text-count");
  if (!textarea || !counter) {
    return;
  }
  const limit = Number(textarea.dataset.maxChars || 0);
  const update = () => {
    const length = textarea.value.length;
    counter.textContent = limit ? `${length.toLocaleString()} / ${limit.toLocaleString()} characters` : "";
    counter.classList.toggle("errors", limit > 0 && length > limit);
  };
  textarea.addEventListener("input", update);
  update();
});
