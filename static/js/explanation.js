// Fetch the word highlights of the analysis on the page once the verdict is shown: the server
// answers the verdict at once and explains the words in a second request. Without JavaScript
// the section's link opens the same explanation as a page.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
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
});
