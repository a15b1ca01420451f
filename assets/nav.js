// The main navigation (vopix/components/ui.py nav()), always one row.
// Narrow screens (900px and less): the Menu button opens the destinations as a panel under
// the bar. Wider screens: the destinations sit in the row; those that do not fit are hidden
// there and shown in the More menu instead (the page's own entry always stays in the row).
// Both menus are disclosures: the button says aria-expanded, Escape closes and gives the
// focus back to the button, and so do a click or the focus going elsewhere. React renders
// these elements once with static attributes, so what is set here stays.
(function () {
  if (window.__vopixNav) return;
  window.__vopixNav = true;
  const PHONE = window.matchMedia('(max-width: 900px)');
  const byId = (id) => document.getElementById(id);
  const panelOf = (button) => button && byId(button.getAttribute('aria-controls'));

  function show(button, open) {
    const panel = panelOf(button);
    if (!panel) return;
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (panel.id === 'nav-menu') panel.dataset.open = open ? 'true' : 'false';
    else panel.hidden = !open;
  }
  const openButtons = () => [...document.querySelectorAll('.vx-nav [aria-controls][aria-expanded="true"]')];
  const closeAll = (except) => openButtons().forEach((b) => { if (b !== except) show(b, false); });

  // Desktop: move what does not fit into More (by hiding it in the row and showing its copy).
  function layout() {
    const nav = document.querySelector('.vx-nav');
    const row = nav && nav.querySelector('.vx-navlinks');
    const more = nav && nav.querySelector('.vx-nav-more');
    const list = byId('nav-more-list');
    if (!row || !more || !list) return;
    const rowItems = [...row.children];
    const moreItems = [...list.children];
    rowItems.forEach((li) => { li.hidden = false; });
    moreItems.forEach((li) => { li.hidden = true; });
    more.hidden = true;
    const fits = () => row.scrollWidth <= row.clientWidth + 1 && nav.scrollWidth <= nav.clientWidth + 1;
    if (!PHONE.matches && !fits()) {
      more.hidden = false;
      for (let i = rowItems.length - 1; i >= 0 && !fits(); i--) {
        if (rowItems[i].querySelector('[aria-current="page"]')) continue;
        rowItems[i].hidden = true;
        if (moreItems[i]) moreItems[i].hidden = false;
      }
    }
    if (more.hidden) { const b = byId('nav-more-button'); if (b) show(b, false); }
    nav.dataset.laidOut = 'true';
  }
  let queued = false;
  const relayout = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; layout(); });
  };
  const watch = () => {
    const nav = document.querySelector('.vx-nav');
    if (!nav || nav.__vopixWatched) return;
    nav.__vopixWatched = true;
    const ro = new ResizeObserver(relayout);
    ro.observe(nav);
    const user = nav.querySelector('.vx-user');
    if (user) ro.observe(user);  // the email arrives over the socket after the first paint
    layout();
  };
  PHONE.addEventListener('change', () => { closeAll(); relayout(); });
  new MutationObserver(watch).observe(document.documentElement, { childList: true, subtree: true });
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(relayout);
  watch();

  document.addEventListener('click', (e) => {
    const t = e.target instanceof Element ? e.target : null;
    const button = t && t.closest('.vx-nav [aria-controls][aria-expanded]');
    if (button) {
      const open = button.getAttribute('aria-expanded') !== 'true';
      closeAll(button);
      show(button, open);
      return;
    }
    // A click anywhere else (a destination included) closes an open menu.
    openButtons().forEach((b) => {
      const panel = panelOf(b);
      if (!panel || !panel.contains(t) || (t && t.closest('a'))) show(b, false);
    });
  });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    const at = document.activeElement;
    const button = openButtons().find((b) => b === at || (panelOf(b) && panelOf(b).contains(at)));
    if (!button) return;
    e.preventDefault();
    e.stopPropagation();  // not also "stop the reply" (shortcuts.js)
    show(button, false);
    button.focus();
  }, true);
  // Tabbing out of a menu closes it (the focus has moved on: it is not pulled back).
  document.addEventListener('focusin', (e) => {
    openButtons().forEach((b) => {
      const panel = panelOf(b);
      if (e.target !== b && !(panel && panel.contains(e.target))) show(b, false);
    });
  });
})();
