// The analyze page: count the characters against the limit as the user types, and fetch the
// word highlights of the analysis on the page once its verdict is shown (the server answers the
// verdict at once and explains the words in a second request; without JavaScript the
// explanation section's link opens the same explanation as a page).
"use strict";

const showCharacterCount = () => {
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
};

const fetchExplanation = () => {
  const section = document.querySelector("[data-explanation-src]");
  if (!section) {
    return;
  }
  const state = section.querySelector("[data-explanation-state]");
  // The fragment says itself when the server was busy (503) or the explanation failed.
  fetch(section.dataset.explanationSrc, { credentials: "same-origin" })
    .then((response) => response.text())
    .then((html) => {
      const fragment = document.createElement("template");
      fragment.innerHTML = html;
      section.replaceWith(fragment.content);
    })
    .catch(() => {
      if (state) {
        state.textContent = "The words could not be loaded. ";
        const link = document.createElement("a");
        link.href = section.dataset.explanationSrc.replace("?fragment=1", "");
        link.textContent = "Try again";
        state.append(link);
      }
      section.removeAttribute("aria-busy");
    });
};

document.addEventListener("DOMContentLoaded", () => {
  showCharacterCount();
  fetchExplanation();
});
