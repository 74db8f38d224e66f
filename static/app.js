// Every htmx request carries the CSRF token, as forms do.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});

// Dialogs open when the server puts one in #modal and close on the closeModal event.
document.addEventListener("htmx:afterSwap", (event) => {
  const dialog = event.detail.target.querySelector && event.detail.target.querySelector("dialog");
  if (dialog && !dialog.open) dialog.showModal();
});
// Only close here: the response's (empty) swap removes the dialog, after the other events of
// the same response have bubbled up from inside it.
document.body.addEventListener("closeModal", () => {
  document.querySelectorAll("#modal dialog[open]").forEach((d) => d.close());
});

// Behaviour that templates would otherwise write inline, which the Content-Security-Policy
// forbids: a button with data-close-dialog closes its dialog; a form with data-confirm asks
// before it is sent.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-close-dialog]");
  if (button) button.closest("dialog")?.close();
});
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
