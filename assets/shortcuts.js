// Keyboard shortcuts of the chat page and their help dialog (vopix/pages/chat_shortcuts.py).
//   ?      the help dialog          /      the message search
//   Alt+N  a new conversation       Alt+M  the message box
//   Esc    stop the reply, while one is being written
// Single keys (? and /) act only outside text fields and can be turned off in the dialog
// (remembered in localStorage), so they never get in the way of typing or speech input. Alt
// combinations act everywhere, except in text fields on a Mac, where Option+letter types a
// character. The page's elements are looked up at each use: Reflex re-renders them.
(function () {
  if (window.__vopixShortcuts) return;
  window.__vopixShortcuts = true;
  const SINGLE_KEYS = 'vopix-single-key-shortcuts';
  const mac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent || '');
  const byId = (id) => document.getElementById(id);
  const dialog = () => byId('shortcuts');
  let opener = null;
  let openerQuery = null;

  const singleKeysOn = () => {
    try { return localStorage.getItem(SINGLE_KEYS) !== 'off'; } catch (e) { return true; }
  };
  const typing = (el) => !!el && (el.isContentEditable || el.tagName === 'TEXTAREA'
    || el.tagName === 'SELECT' || (el.tagName === 'INPUT'
      && !/^(checkbox|radio|button|submit|reset|range|color|file)$/.test(el.type)));
  const focusComposer = () => { const m = byId('message'); if (m) m.focus(); };

  function open() {
    const d = dialog();
    if (!d || d.open) return;
    opener = document.activeElement;
    // React may re-render the opener while the dialog is open: remember how to find it again.
    openerQuery = opener && opener.id ? '#' + CSS.escape(opener.id)
      : (opener && opener.matches && opener.matches('[data-shortcuts-open]') ? '[data-shortcuts-open]' : null);
    const box = d.querySelector('[data-single-keys]');
    if (box) box.checked = singleKeysOn();
    d.showModal();
  }
  function close() { const d = dialog(); if (d && d.open) d.close(); }
  // Tab and Shift+Tab go round the dialog's controls and never leave it.
  function trap(e, d) {
    const items = [...d.querySelectorAll('button, [href], input, select, textarea, [tabindex]')]
      .filter((el) => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    const at = document.activeElement;
    if (e.shiftKey && (at === first || !d.contains(at))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (at === last || !d.contains(at))) { e.preventDefault(); first.focus(); }
  }

  // 'close' does not bubble: listen in the capture phase. Escape closes a modal dialog too.
  document.addEventListener('close', (e) => {
    if (e.target !== dialog()) return;
    let back = opener;
    if (back && !back.isConnected && openerQuery) back = document.querySelector(openerQuery);
    opener = openerQuery = null;
    if (back && back.isConnected && back !== document.body) back.focus(); else focusComposer();
  }, true);
  document.addEventListener('click', (e) => {
    const t = e.target instanceof Element ? e.target : null;
    if (!t) return;
    if (t.closest('[data-shortcuts-open]')) open();
    else if (t.closest('[data-shortcuts-close]')) close();
  });
  document.addEventListener('change', (e) => {
    const t = e.target;
    if (t instanceof HTMLInputElement && t.matches('[data-single-keys]')) {
      try { localStorage.setItem(SINGLE_KEYS, t.checked ? 'on' : 'off'); } catch (err) { /* private mode */ }
    }
  });

  document.addEventListener('keydown', (e) => {
    const d = dialog();
    if (d && d.open) { if (e.key === 'Tab') trap(e, d); return; }
    if (e.defaultPrevented || e.isComposing || !byId('message')) return;  // not the chat page
    const target = e.target instanceof Element ? e.target : null;
    const inField = typing(target);
    if (e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      if (mac && inField) return;
      if (e.code === 'KeyN') {
        e.preventDefault();
        const start = byId('new-conversation');
        if (start) start.click();
        focusComposer();
      } else if (e.code === 'KeyM') {
        e.preventDefault();
        focusComposer();
      }
      return;
    }
    if (e.key === 'Escape' && !e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      const stop = byId('stop-reply');  // there only while a reply streams
      if (stop && (!inField || target.id === 'message')) { e.preventDefault(); stop.click(); }
      return;
    }
    if (inField || e.ctrlKey || e.metaKey || e.altKey || !singleKeysOn()) return;
    if (e.key === '?') {
      e.preventDefault();
      open();
    } else if (e.key === '/') {
      e.preventDefault();
      const search = byId('chat-search');
      if (search) { search.focus(); search.select(); }
    }
  });
})();
