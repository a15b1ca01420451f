// The Workspace page's editor (vopix/pages/workspace.py).
//   reveal(path)  called by the page's events once a file is opened: scrolls the editor into view
//                 and puts the focus in it, as soon as it shows that file (Reflex renders it
//                 after the event's answer arrives).
//   focusOpen(path)  called when the editor closes: the focus goes back to that file's Open
//                 button instead of being lost with the editor.
//   Unsaved edits: the editor's textarea is uncontrolled, so "changed" is its value against its
//   defaultValue (the text as last saved). While it is changed, a click on anything marked
//   data-guard-edits (Open, Close) or on a link that leaves the page first asks, in the
//   #discard-edits dialog, "Discard your changes to <file>?"; Discard replays the click, Keep
//   editing goes back to the text. Closing or reloading the tab gets the browser's own question.
//   The browser's Back (and Forward) button: the app's links are client-side router links, so
//   going back to a page reached by one is a popstate, not an unload, and the browser asks
//   nothing. While the text is changed the popstate is kept from the router (a capture listener
//   on window runs first), the history step is undone and the same dialog asks; Discard then
//   takes the step again.
// The page's elements are looked up at each use: Reflex re-renders them.
(function () {
  if (window.vopixWorkspace) return;
  const byId = (id) => document.getElementById(id);
  const editor = () => byId('editor-content');
  const dialog = () => byId('discard-edits');
  let pending = null;  // the element whose click waits for an answer
  let replaying = false;
  let discarded = false;  // the dialog closed on Discard: the replayed click decides the focus
  let popping = 0;  // >0: a history step of our own, the router must not see it
  let letPop = false;  // the person chose Discard: the step back reaches the router
  let at = (history.state && history.state.idx) || 0;  // React Router numbers its entries

  function changed() {
    const ed = editor();
    return !!ed && ed.isConnected && ed.value !== ed.defaultValue;
  }

  function reveal(path) {
    const until = Date.now() + 5000;
    const tryNow = () => {
      const ed = editor();
      if (ed && ed.dataset.path === path) {
        const section = ed.closest('section') || ed;
        section.scrollIntoView({ block: 'start', behavior: 'auto' });
        ed.focus({ preventScroll: true });
        ed.setSelectionRange(0, 0);
        ed.scrollTop = 0;
        return;
      }
      if (Date.now() < until) requestAnimationFrame(tryNow);
    };
    tryNow();
  }

  function focusOpen(path) {
    const until = Date.now() + 5000;
    const tryNow = () => {
      const button = [...document.querySelectorAll('button[data-guard-edits]')]
        .find((b) => b.getAttribute('aria-label') === `Open ${path}`);
      if (button && !editor()) { button.focus(); return; }
      if (Date.now() < until) requestAnimationFrame(tryNow);
    };
    tryNow();
  }

  function leavesPage(a) {
    if (!a.href || a.hasAttribute('download') || (a.target && a.target !== '_self')) return false;
    try {
      const to = new URL(a.href, location.href);
      return to.origin !== location.origin || to.pathname !== location.pathname;
    } catch (e) { return false; }
  }

  function ask(target) {
    const d = dialog();
    if (!d) return false;
    const ed = editor();
    const text = d.querySelector('[data-discard-question]');
    if (text) text.textContent = `Discard your changes to ${ed.dataset.path || 'this file'}?`;
    pending = target;
    if (!d.open) d.showModal();
    const keep = d.querySelector('[data-discard-keep]');
    if (keep) keep.focus();
    return true;
  }

  // Capture phase on window: runs before React's listeners on the app's root.
  window.addEventListener('click', (e) => {
    const t = e.target instanceof Element ? e.target : null;
    if (!t || replaying) return;
    const d = dialog();
    if (d && d.contains(t)) {
      if (t.closest('[data-discard-confirm]')) {
        const target = pending;
        pending = null;
        discarded = true;
        d.close();
        const ed = editor();
        if (ed) ed.value = ed.defaultValue;  // the edits are let go: no second question
        if (target && target.historyStep) {
          letPop = true;
          history.go(target.historyStep);
        } else if (target && target.isConnected) {
          replaying = true;
          try { target.click(); } finally { replaying = false; }
        }
      } else if (t.closest('[data-discard-keep]')) {
        d.close();
      }
      return;
    }
    if (!changed()) return;
    const guarded = t.closest('[data-guard-edits]');
    // Opening the file that is being edited keeps its text (vopix/state/workspace.py): no question.
    if (guarded && guarded.getAttribute('aria-label') === `Open ${editor().dataset.path}`) return;
    const link = guarded ? null : t.closest('a[href]');
    if (!guarded && !(link && leavesPage(link))) return;
    if (ask(guarded || link)) { e.preventDefault(); e.stopPropagation(); }
  }, true);

  // The dialog closes (Keep editing, Escape): back to the text.
  document.addEventListener('close', (e) => {
    if (e.target !== dialog()) return;
    pending = null;
    if (discarded) { discarded = false; return; }
    const ed = editor();
    if (ed && ed.isConnected) ed.focus();
  }, true);

  window.addEventListener('popstate', (e) => {
    const to = (e.state && e.state.idx) || 0;
    if (popping > 0) { popping -= 1; e.stopImmediatePropagation(); return; }
    const step = to - at;
    if (letPop || !changed() || !step) { letPop = false; at = to; return; }
    e.stopImmediatePropagation();  // the router stays on this page
    popping += 1;
    history.go(-step);  // back to this page's entry (its popstate is ours: see above)
    ask({ historyStep: step });
  }, true);
  // The router's own navigations (a link followed after Discard) move the entry we are at.
  const follow = (fn) => function (...args) { const r = fn.apply(this, args); at = (history.state && history.state.idx) || 0; return r; };
  history.pushState = follow(history.pushState);
  history.replaceState = follow(history.replaceState);

  window.addEventListener('beforeunload', (e) => {
    if (!changed()) return;
    e.preventDefault();
    e.returnValue = '';
  });

  window.vopixWorkspace = { reveal, focusOpen, changed };
})();
