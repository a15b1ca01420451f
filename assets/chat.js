// Chat log behaviour: stay pinned to the newest message while it streams (unless the reader
// scrolled up), and fetch older messages when the reader scrolls to the top, keeping the
// visible messages in place. The "Load older messages" button stays for keyboards.
(function () {
  if (window.__vopixChat) return;
  window.__vopixChat = true;
  const observed = new WeakSet();
  const io = new IntersectionObserver((entries) => {
    entries.forEach((e) => {
      if (!e.isIntersecting) return;
      const log = document.querySelector('[role=log]');
      if (log) { log.dataset.prevHeight = log.scrollHeight; log.dataset.prevTop = log.scrollTop; }
      e.target.click();
    });
  });
  new MutationObserver(() => {
    const log = document.querySelector('[role=log]');
    document.querySelectorAll('[data-autoload]').forEach((b) => {
      if (!observed.has(b)) { observed.add(b); io.observe(b); }
    });
    if (!log) return;
    if (log.dataset.prevHeight && log.scrollHeight !== Number(log.dataset.prevHeight)) {
      log.scrollTop = Number(log.dataset.prevTop) + log.scrollHeight - Number(log.dataset.prevHeight);
      delete log.dataset.prevHeight;
      return;
    }
    if (log.dataset.pinned !== 'false') log.scrollTop = log.scrollHeight;
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
  document.addEventListener('scroll', (e) => {
    const l = e.target;
    if (l && l.getAttribute && l.getAttribute('role') === 'log') {
      l.dataset.pinned = l.scrollHeight - l.scrollTop - l.clientHeight < 40 ? 'true' : 'false';
    }
  }, true);
})();
