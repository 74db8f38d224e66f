// Behaviour that templates would otherwise write inline, which the Content-Security-Policy
// forbids: every handler here is delegated from the document and keyed on data-* attributes.

// Every htmx request carries the CSRF token, as forms do.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});

// ---- Pop-ups --------------------------------------------------------------------------------
// A dialog opens when the server puts one in #modal, and closes on the closeModal event. Focus
// goes to its first field (to the first invalid one after an error, scrolled into view), and
// back to the button that opened it when it closes.
let opener = null;

document.addEventListener("htmx:beforeRequest", (event) => {
  const modal = document.getElementById("modal");
  if (event.detail.target === modal && !modal.contains(event.detail.elt)) opener = event.detail.elt;
});

document.addEventListener("htmx:afterSwap", (event) => {
  const dialog = event.detail.target.querySelector && event.detail.target.querySelector("dialog");
  if (!dialog) return;
  if (!dialog.open) dialog.showModal();
  dialog.addEventListener("close", returnFocus, { once: true });
  searchable(dialog);
  focusFirstField(dialog);
});

function focusFirstField(dialog) {
  focusField(dialog.querySelector(".body .has-error") || dialog.querySelector(".body .field"));
}

// Focus the field's control, then scroll the whole field (its label and errors) to the centre.
function focusField(field) {
  const control = field && fieldControl(field);
  if (!control) return;
  control.focus({ preventScroll: true });
  field.scrollIntoView({ block: "center" });
}

// The control a person types in: a searchable multi-select's own input, else the field's.
function fieldControl(field) {
  return field.querySelector(".ts-control input") ||
    field.querySelector("input:not([type=hidden]), select, textarea");
}

function returnFocus() {
  // The opener's panel may have been swapped meanwhile (a table that came back): its
  // replacement, found by the id, takes the focus.
  const target = opener && (opener.isConnected ? opener : opener.id && document.getElementById(opener.id));
  opener = null;
  if (!target) return;
  // A button of a row's menu is hidden once the menu closed: its menu's button takes focus.
  const menu = target.closest("[popover]");
  const visible = menu && !menu.matches(":popover-open")
    ? document.querySelector(`[popovertarget="${menu.id}"]`) : target;
  if (visible) visible.focus();
}

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

document.addEventListener("click", (event) => {
  // A button with data-close-dialog closes its dialog.
  const close = event.target.closest("[data-close-dialog]");
  if (close) close.closest("dialog")?.close();
  // A link of an error summary focuses its field.
  const summaryLink = event.target.closest(".error-summary a[href^='#']");
  if (summaryLink) {
    event.preventDefault();
    focusField(document.getElementById(summaryLink.hash.slice(1))?.closest(".field"));
  }
  // A button or link of a row's menu closes the menu once it did its work.
  const menuItem = event.target.closest("[popover] :is(button, a)");
  if (menuItem) menuItem.closest("[popover]").hidePopover();
  // The Menu button of a narrow screen shows and hides the main menu.
  const toggle = event.target.closest("[data-menu-toggle]");
  if (toggle) {
    const open = document.body.classList.toggle("menu-open");
    toggle.setAttribute("aria-expanded", String(open));
  }
  const dismiss = event.target.closest("[data-dismiss-message]");
  if (dismiss) dismiss.closest(".flash").remove();
});

// A form with data-confirm asks before it is sent.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// ---- Messages -------------------------------------------------------------------------------
// After a change made from a table, the server's HX-Trigger sends showMessage {text}.
const MESSAGE_SECONDS = 8;

function showMessage(text) {
  const box = document.getElementById("messages");
  if (!box || !text) return;
  const message = document.createElement("div");
  message.className = "flash flash-success";
  message.setAttribute("role", "status");
  const words = document.createElement("span");
  words.textContent = text;
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.className = "link dismiss";
  dismiss.dataset.dismissMessage = "";
  dismiss.setAttribute("aria-label", "Dismiss");
  dismiss.textContent = "✕";
  message.append(words, dismiss);
  box.append(message);
  fadeLater(message);
}

// Messages of success go by themselves; errors (flashed by the server) stay until dismissed.
function fadeLater(message) {
  if (!message.classList.contains("flash-error")) {
    setTimeout(() => message.remove(), MESSAGE_SECONDS * 1000);
  }
}

document.body.addEventListener("showMessage", (event) => showMessage(event.detail.text));
document.querySelectorAll("#messages .flash").forEach(fadeLater);

// ---- Placeholders ---------------------------------------------------------------------------
// A placeholder picker inserts {{name}} into its field at the cursor (or over the selection).
document.addEventListener("change", (event) => {
  const picker = event.target.closest("select[data-insert-into]");
  if (!picker || !picker.value) return;
  const field = document.getElementById(picker.dataset.insertInto);
  const text = picker.value;
  picker.value = "";
  if (!field) return;
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? start;
  field.setRangeText(text, start, end, "end");
  field.focus();
  field.dispatchEvent(new Event("input", { bubbles: true }));
});

// ---- Searchable multi-selects ---------------------------------------------------------------
// Every <select multiple> becomes a Tom Select (static/vendor): type to search, click or Enter
// to choose, × or Backspace to remove. The <select> underneath still holds what is sent.
function searchable(root) {
  if (typeof TomSelect === "undefined") return;
  const selects = root.matches?.("select[multiple]") ? [root] : root.querySelectorAll("select[multiple]");
  selects.forEach((select) => {
    if (select.tomselect) return;
    new TomSelect(select, {
      plugins: { remove_button: { title: "Remove" } },
      maxOptions: null,
      hidePlaceholder: true,
      placeholder: "Type to search…",
      onItemAdd() { this.setTextboxValue(""); this.refreshOptions(); },
    });
    // Its label now names the search box; the <select> underneath is for the form alone.
    select.setAttribute("aria-hidden", "true");
  });
}

// htmx:load comes for the page and for every piece of content htmx adds; the scripts are
// deferred, so Tom Select is loaded before either.
document.addEventListener("htmx:load", (event) => searchable(event.target));

// ---- Wide tables and charts ----------------------------------------------------------------
// A table or chart wider than its frame scrolls inside it; a frame that scrolls and holds
// nothing to focus takes focus itself, so that the keyboard can scroll it too.
function markScrollableFrames() {
  document.querySelectorAll(".table-scroll, .log-chart").forEach((frame) => {
    const scrolls = frame.scrollWidth > frame.clientWidth;
    if (scrolls && !frame.querySelector("a[href], button, input, select, textarea")) {
      frame.tabIndex = 0;
    } else {
      frame.removeAttribute("tabindex");
    }
  });
}
// Reading widths lays the page out: every polled row brings an htmx:load, and a resize many
// events, so the frames are looked at once per frame drawn, however many asked.
let framesPending = false;
function scrollableFrames() {
  if (framesPending) return;
  framesPending = true;
  requestAnimationFrame(() => {
    framesPending = false;
    markScrollableFrames();
  });
}
document.addEventListener("htmx:load", scrollableFrames);
window.addEventListener("resize", scrollableFrames);
