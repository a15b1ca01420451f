// Chat log behaviour: stay pinned to the newest message while it streams (unless the reader
// scrolled up), bring the newest message into view on send, offer "Jump to latest" when new
// text arrives below a reader who scrolled up, and fetch older messages when the reader
// scrolls to the top, keeping the visible messages in place. The "Load older messages"
// button stays for keyboards. A conversation opened at a search hit (the log's data-focus)
// scrolls to that message; its page ends before the latest message, so it is never pinned to
// the bottom, and "Load newer messages" loads on as the reader scrolls down. Copy buttons
// write their text to the clipboard. Files dropped on the composer or pasted go to its
// "Attach files" input. On phones the conversation list is a drawer.
(function () {
  if (window.__vopixChat) return;
  window.__vopixChat = true;
  const observed = new WeakSet();
  const findLog = () => document.querySelector('[role=log]');
  const jumpButton = () => document.getElementById('jump-latest');
  const setJump = (shown) => { const j = jumpButton(); if (j) j.hidden = !shown; };
  const distance = (log) => log.scrollHeight - log.scrollTop - log.clientHeight;
  const follow = (log) => { log.scrollTop = log.scrollHeight; log.dataset.autoTop = log.scrollTop; };
  const toBottom = (log) => { log.dataset.pinned = 'true'; follow(log); setJump(false); };
  // The scroll event comes a frame late: a reader who moved up since our last automatic
  // scroll is not pulled back down by text that arrives in between.
  const pinned = (log) => {
    if (log.querySelector('[data-autoload=newer]')) return false;  // not the latest page
    if (log.dataset.pinned === 'false') return false;
    if (log.scrollTop < Number(log.dataset.autoTop || 0) - 1 && distance(log) >= 40) {
      log.dataset.pinned = 'false';
      return false;
    }
    return true;
  };
  // Scroll the message a search hit opened to the middle of the log (once per hit).
  const showFocus = (log) => {
    const focus = log.dataset.focus || '';
    const key = focus ? `${focus}#${log.dataset.focusSeq || ''}` : '';
    if (key === (log.dataset.focused || '')) return false;
    if (!focus) { log.dataset.focused = ''; return false; }
    const target = log.querySelector(`[data-message-id="${CSS.escape(focus)}"]`);
    if (!target) return false;
    log.dataset.focused = key;
    log.dataset.pinned = 'false';
    delete log.dataset.prevHeight;
    const offset = target.getBoundingClientRect().top - log.getBoundingClientRect().top;
    log.scrollTop += offset - Math.max(0, (log.clientHeight - target.offsetHeight) / 2);
    log.dataset.autoTop = log.scrollTop;
    setJump(true);
    return true;
  };
  // Did text arrive at the end of the log since the last look: a new message, or more text in
  // the last one? Not a deletion, an edit form opening, nor React re-rendering a message's
  // markdown (which it does on every state change) without changing its text.
  // Older messages loaded above leave the last one as it was.
  let seen = { count: 0, id: null, length: 0 };
  const grew = (log) => {
    const all = log.querySelectorAll('article');
    const last = all[all.length - 1];
    const now = {
      count: all.length,
      id: last ? last.dataset.messageId : null,
      length: last && !last.querySelector('.vx-edit') ? last.textContent.length : -1,
    };
    const before = seen;
    seen = now;
    if (now.count > before.count && now.id !== before.id) return true;  // a new message below
    return now.id === before.id && before.length >= 0 && now.length > before.length;
  };
  const io = new IntersectionObserver((entries) => {
    entries.forEach((e) => {
      if (!e.isIntersecting) return;
      const log = findLog();
      if (log && e.target.dataset.autoload !== 'newer') {  // older ones go above: keep the view
        log.dataset.prevHeight = log.scrollHeight; log.dataset.prevTop = log.scrollTop;
      }
      e.target.click();
    });
  });
  new MutationObserver(() => {
    const log = findLog();
    document.querySelectorAll('[data-autoload]').forEach((b) => {
      if (!observed.has(b)) { observed.add(b); io.observe(b); }
    });
    if (!log) return;
    const arrived = grew(log);
    if (showFocus(log)) return;
    if (log.dataset.prevHeight && log.scrollHeight !== Number(log.dataset.prevHeight)) {
      log.scrollTop = Number(log.dataset.prevTop) + log.scrollHeight - Number(log.dataset.prevHeight);
      delete log.dataset.prevHeight;
      return;
    }
    if (pinned(log)) { follow(log); return; }
    // Scrolled up: only text that arrived below is worth a jump.
    if (arrived && distance(log) >= 40) setJump(true);
  }).observe(document.body, {
    childList: true, subtree: true, characterData: true,
    attributes: true, attributeFilter: ['data-focus', 'data-focus-seq'],  // a hit opened again
  });
  document.addEventListener('scroll', (e) => {
    const l = e.target;
    if (l && l.getAttribute && l.getAttribute('role') === 'log') {
      const bottom = distance(l) < 40;
      l.dataset.pinned = bottom ? 'true' : 'false';
      if (bottom) setJump(false);
    }
  }, true);
  // Sending (button or Enter) means the person wants to see their message and the reply.
  document.addEventListener('submit', (e) => {
    const log = findLog();
    if (log && e.target.closest && e.target.closest('.vx-composer')) toBottom(log);
  }, true);
  // Copy buttons (a message, a code block) carry their text in data-copy. The button says
  // "Copied" for a moment; the page's #copy-status tells screen readers. Plain-http pages have
  // no navigator.clipboard: a selected textarea and execCommand('copy') do it there.
  const writeText = (text) => {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise((resolve, reject) => {
      const area = document.createElement('textarea');
      area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
      document.body.appendChild(area); area.select();
      const ok = document.execCommand('copy'); area.remove();
      if (ok) resolve(); else reject(new Error('copy refused'));
    });
  };
  const say = (text) => { const s = document.getElementById('copy-status'); if (s) s.textContent = text; };
  const showCopied = (button, done) => {
    const idle = button.querySelector('[data-copy-idle]');
    const copied = button.querySelector('[data-copy-done]');
    if (idle) idle.hidden = done;
    if (copied) copied.hidden = !done;
    button.dataset.copied = done ? 'true' : 'false';
    button.setAttribute('aria-label', done ? 'Copied' : (button.dataset.copyLabel || 'Copy'));
  };
  document.addEventListener('click', (e) => {
    const button = e.target.closest && e.target.closest('[data-copy]');
    if (!button) return;
    writeText(button.dataset.copy || '').then(() => {
      showCopied(button, true);
      say('Copied to the clipboard.');
      clearTimeout(button.__copyTimer);
      button.__copyTimer = setTimeout(() => { showCopied(button, false); say(''); }, 2000);
    }, () => say('Could not copy: the browser refused. Select the text and copy it instead.'));
  });
  document.addEventListener('click', (e) => {
    if (!e.target.closest || !e.target.closest('#jump-latest')) return;
    const log = findLog();
    if (log) toBottom(log);
    document.getElementById('message')?.focus();  // the button hides: keep focus somewhere useful
  });
  // Phones (800px and less): the conversation list is a drawer. Its button says aria-expanded;
  // opening moves the focus into it (the open conversation, or New conversation); Escape, its
  // Close button, the backdrop or the focus leaving close it; picking a conversation closes it
  // and puts the focus in the message box. React renders these attributes once, static.
  const PHONE = window.matchMedia('(max-width: 800px)');
  const drawer = () => document.getElementById('chat-drawer');
  const drawerButton = () => document.getElementById('chat-drawer-button');
  const drawerOpen = () => { const d = drawer(); return !!d && d.dataset.open === 'true'; };
  const setDrawer = (open, focus) => {
    const d = drawer(), b = drawerButton();
    if (!d || !b) return;
    d.dataset.open = open ? 'true' : 'false';
    b.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) (d.querySelector('.vx-conv-active') || document.getElementById('new-conversation') || d).focus();
    else if (focus === 'button') b.focus();
    else if (focus === 'composer') document.getElementById('message')?.focus();
  };
  document.addEventListener('click', (e) => {
    const t = e.target instanceof Element ? e.target : null;
    if (!t) return;
    if (t.closest('#chat-drawer-button')) { setDrawer(!drawerOpen(), 'button'); return; }
    if (!drawerOpen()) return;
    if (t.closest('.vx-drawer-close, .vx-drawer-backdrop')) setDrawer(false, 'button');
    else if (t.closest('#chat-drawer .vx-conv, #new-conversation')) setDrawer(false, 'composer');
  });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !drawerOpen()) return;
    e.preventDefault();
    e.stopPropagation();  // not also "stop the reply" (shortcuts.js)
    setDrawer(false, 'button');
  }, true);
  document.addEventListener('focusin', (e) => {
    const d = drawer();
    if (drawerOpen() && d && !d.contains(e.target) && e.target !== drawerButton()) setDrawer(false);
  });
  PHONE.addEventListener('change', () => { if (!PHONE.matches && drawerOpen()) setDrawer(false); });
  // Attachments: files dropped anywhere on the composer, or pasted into the message box (a
  // screenshot), go to the composer's file input, as if picked with "Attach files"; the
  // upload itself is Reflex's (the input's change event starts it).
  const attachInput = () => document.querySelector('#chat-attach input[type=file]');
  const attach = (files) => {
    const input = attachInput();
    if (!input || !files || !files.length) return false;
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(f);
    input.files = dt.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    return true;
  };
  const composerOf = (e) => e.target.closest && e.target.closest('.vx-composer');
  const hasFiles = (e) => e.dataTransfer && [...(e.dataTransfer.types || [])].includes('Files');
  document.addEventListener('dragover', (e) => {
    const c = composerOf(e);
    if (!c || !hasFiles(e)) return;
    e.preventDefault();
    c.classList.add('vx-drop-target');
  });
  document.addEventListener('dragleave', (e) => {
    const c = composerOf(e);
    if (c && !c.contains(e.relatedTarget)) c.classList.remove('vx-drop-target');
  });
  document.addEventListener('drop', (e) => {
    const c = composerOf(e);
    if (!c || !hasFiles(e)) return;
    e.preventDefault();
    c.classList.remove('vx-drop-target');
    attach(e.dataTransfer.files);
  });
  document.addEventListener('paste', (e) => {
    if (!e.target || e.target.id !== 'message' || !e.clipboardData) return;
    const files = [...e.clipboardData.files];
    if (files.length && attach(files)) e.preventDefault();  // text pastes as always
  });
})();
