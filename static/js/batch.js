// Follow a batch while it runs: poll its JSON status, move the progress bar, then reload the
// page once it is finished so the server shows the summary and the download.
"use strict";

const POLL_MS = 1000;
const STATUS_LABELS = { queued: "Queued", running: "Running", done: "Done", failed: "Failed" };

function formatDuration(seconds) {
  const minutes = Math.floor(seconds / 60);
  return minutes ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
}

function show(section, status) {
  const text = (id, value) => {
    document.getElementById(id).textContent = value;
  };
  const progress = document.getElementById("batch-progress");
  progress.max = status.total;
  progress.value = status.done;
  progress.textContent = `${status.percent}%`;
  text("batch-status", STATUS_LABELS[status.status] || status.status);
  text("batch-done", status.done);
  text("batch-percent", status.percent);
  text("batch-rate", status.rate_per_second ? ` · ${status.rate_per_second} texts/s` : "");
  text("batch-left", status.seconds_left != null ? ` · about ${formatDuration(status.seconds_left)} left` : "");
  document.getElementById("batch-waiting").classList.toggle("hidden", status.status !== "queued");
  const error = document.getElementById("batch-error");
  error.textContent = status.error;
  error.classList.toggle("hidden", !status.error);
  section.dataset.status = status.status;
}

document.addEventListener("DOMContentLoaded", () => {
  const section = document.getElementById("batch");
  if (!section || section.dataset.status === "done" || section.dataset.status === "failed") {
    return;
  }
  const poll = async () => {
    try {
      const response = await fetch(section.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const status = await response.json();
        show(section, status);
        if (status.finished) {
          window.setTimeout(() => window.location.reload(), 800);
          return;
        }
      }
    } catch (error) {
      // The server may be restarting; keep polling.
    }
    window.setTimeout(poll, POLL_MS);
  };
  window.setTimeout(poll, POLL_MS);
});
