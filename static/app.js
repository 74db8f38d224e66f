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

// Delete selected: the button works once a row is selected, the header box selects the page,
// and the confirmation names how many contacts go.
function selectedBoxes(formId) {
  return document.querySelectorAll(`input[type=checkbox][form="${formId}"]:checked`);
}
function syncDeleteSelected() {
  document.querySelectorAll("form[data-confirm-selected]").forEach((form) => {
    const button = form.querySelector("button");
    if (button) button.disabled = selectedBoxes(form.id).length === 0;
  });
}
document.addEventListener("change", (event) => {
  const all = event.target.closest && event.target.closest("input[data-select-all]");
  if (all) {
    document.querySelectorAll(`input[type=checkbox][form="${all.dataset.selectAll}"]`)
      .forEach((box) => { box.checked = all.checked; });
  }
  syncDeleteSelected();
});
document.addEventListener("htmx:afterSettle", syncDeleteSelected);
document.addEventListener("htmx:confirm", (event) => {
  const form = event.target;
  if (!form.matches || !form.matches("form[data-confirm-selected]")) return;
  event.preventDefault();
  const count = selectedBoxes(form.id).length;
  if (count === 0) return;
  if (window.confirm(`Delete ${count} selected contact${count === 1 ? "" : "s"} from this list?`)) {
    event.detail.issueRequest(true);
  }
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
