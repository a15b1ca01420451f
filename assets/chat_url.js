// The chat's address follows the open conversation: /chat?c=<id>, or /chat for none. Reflex
// sends the live address with every event, so a tab whose server state is gone (Redis
// restarted, a single process restarted) opens that conversation again on its next event
// (vopix/state/chat_interrupt.py), and a reload opens it too. The log's data-conversation is
// empty while the state has not served the person yet: the page's compiled defaults, or a
// state lost with Redis and rebuilt, never clear the address. history.replaceState: no
// navigation, no new history entry.
(function () {
  if (window.__vopixChatUrl) return;
  window.__vopixChatUrl = true;
  // Only a change of the open conversation on the page moves the address. A log that just
  // appeared (arriving at /chat?c=..&m=.. from a task's "Open message") still shows what the
  // state held before, until the page's on_load opens what the address says: it must not
  // rewrite that address.
  let seen = null, last = '';
  const sync = () => {
    const path = window.location.pathname;
    if (path.replace(/\/+$/, '') !== '/chat') return;  // /chat or /chat/
    const log = document.querySelector('[role=log][data-conversation]');
    if (log !== seen) {
      seen = log;
      last = log ? log.dataset.conversation : '';
      return;
    }
    const open = log ? log.dataset.conversation : '';
    if (open === last) return;
    last = open;
    if (!open) return;
    const params = new URLSearchParams(window.location.search);
    const shown = params.get('c') || '0';
    if (shown === open) return;
    params.delete('m');  // a message link (?c=&m=) was for the conversation it named
    if (open === '0') params.delete('c'); else params.set('c', open);
    const query = params.toString();
    window.history.replaceState(window.history.state, '', path + (query ? '?' + query : '') + window.location.hash);
  };
  new MutationObserver(sync).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-conversation'],
  });
  sync();
})();
