// @ts-check
// The shell: login page or header + menu + the current page; a language switch that redraws
// everything in place; hash routing (#/zones, #/media…) so that reload and Back just work.
import { h, replace } from './dom.js';
import { getLang, setLang, t } from './i18n.js';
import { setUnauthorizedHandler } from './api.js';
import { currentUser, forget, logout, restore } from './session.js';
import { ROUTES, DEFAULT_ROUTE, parseHash } from './routes.js';
import { renderLogin } from './views/login.js';

const root = /** @type {HTMLElement} */ (document.getElementById('app'));
/** @type {(() => void) | void} */
let cleanup;
/** The i18n key of a note for the login page (session expired), kept as a key so a language switch translates it. */
let loginNote = '';

function stopPage() {
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
}

function langButton() {
  return h(
    'button',
    {
      type: 'button',
      class: 'lang-switch',
      lang: getLang() === 'vi' ? 'en' : 'vi',
      title: t('lang_switch_label'),
      onclick: () => {
        setLang(getLang() === 'vi' ? 'en' : 'vi');
        draw();
      },
    },
    t('lang_switch'),
  );
}

function showLogin() {
  stopPage();
  document.title = `${t('login_title')} · Loa`;
  replace(
    root,
    h('header', { class: 'topbar' }, h('span', { class: 'brand' }, t('app_name')), h('span', { class: 'spacer' }), langButton()),
    renderLogin({
      note: loginNote ? t(loginNote) : '',
      onLoggedIn: () => {
        loginNote = '';
        if (!location.hash) location.hash = `#/${DEFAULT_ROUTE}`;
        draw();
      },
    }),
  );
}

async function showPage() {
  stopPage();
  const user = currentUser();
  if (!user) return showLogin();
  const { path, params } = parseHash(location.hash);
  const visible = ROUTES.filter((r) => r.visible());
  const route = visible.find((r) => r.path === path);

  const nav = h(
    'nav',
    { class: 'nav', 'aria-label': t('nav_label') },
    h(
      'ul',
      null,
      visible.map((r) =>
        h('li', null, h('a', { href: `#/${r.path}`, 'aria-current': r === route ? 'page' : undefined }, t(r.label))),
      ),
    ),
  );
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(
    root,
    h(
      'header',
      { class: 'topbar' },
      h('span', { class: 'brand' }, t('app_name')),
      h('span', { class: 'spacer' }),
      h('span', { class: 'who' }, t('signed_in_as', { name: user.displayName || user.username })),
      langButton(),
      h(
        'button',
        {
          type: 'button',
          class: 'logout',
          onclick: async () => {
            await logout();
            // A fresh page: nothing of this user's session (open branches, lists) stays in memory.
            location.assign('/');
          },
        },
        t('logout'),
      ),
    ),
    nav,
    main,
  );

  if (!route) {
    document.title = 'Loa';
    replace(main, h('p', { class: 'notice notice-error', role: 'alert' }, t('page_not_found')));
    return;
  }
  document.title = `${t(route.label)} · Loa`;
  replace(main, h('p', { class: 'muted' }, t('loading')));
  const page = await route.load();
  // The user may have moved on while the module loaded.
  if (parseHash(location.hash).path !== path && location.hash) return;
  replace(main);
  cleanup = page.render(main, params);
}

function draw() {
  document.documentElement.lang = getLang();
  void showPage();
}

setUnauthorizedHandler(() => {
  if (!currentUser()) return;
  forget();
  loginNote = 'session_expired';
  showLogin();
});

window.addEventListener('hashchange', () => {
  if (currentUser()) draw();
});

document.documentElement.lang = getLang();
await restore();
draw();
