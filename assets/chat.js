// Chat log behaviour: stay pinned to the newest message while it streams (unless the reader
// scrolled up), bring the newest message into view on send, offer "Jump to latest" when new
// text arrives below a reader who scrolled up, and fetch older messages when the reader
// scrolls to the top, keeping the visible messages in place. The "Load older messages"
// button stays for keyboards.
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
    if (log.dataset.pinned === 'false') return false;
    if (log.scrollTop < Number(log.dataset.autoTop || 0) - 1 && distance(log) >= 40) {
      log.dataset.pinned = 'false';
      return false;
    }
    return true;
  };
  const io = new IntersectionObserver((entries) => {
    entries.forEach((e) => {
      if (!e.isIntersecting) return;
      const log = findLog();
      if (log) { log.dataset.prevHeight = log.scrollHeight; log.dataset.prevTop = log.scrollTop; }
      e.target.click();
    });
  });
  new MutationObserver((records) => {
    const log = findLog();
    document.querySelectorAll('[data-autoload]').forEach((b) => {
      if (!observed.has(b)) { observed.add(b); io.observe(b); }
    });
    if (!log) return;
    if (log.dataset.prevHeight && log.scrollHeight !== Number(log.dataset.prevHeight)) {
      log.scrollTop = Number(log.dataset.prevTop) + log.scrollHeight - Number(log.dataset.prevHeight);
      delete log.dataset.prevHeight;
      return;
    }
    if (pinned(log)) { follow(log); return; }
    // Scrolled up: only text that arrived (not a deletion) is worth a jump.
    const arrived = records.some((r) => log.contains(r.target)
      && (r.type === 'characterData' || r.addedNodes.length > 0));
    if (arrived && distance(log) >= 40) setJump(true);
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
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
  document.addEventListener('click', (e) => {
    if (!e.target.closest || !e.target.closest('#jump-latest')) return;
    const log = findLog();
    if (log) toBottom(log);
    document.getElementById('message')?.focus();  // the button hides: keep focus somewhere useful
  });
})();
