// @ts-check
// The app's pages. A page is a module under views/ exporting
//   render(main: HTMLElement, params: URLSearchParams): (() => void) | void
// (the returned function stops its timers when the user leaves). To add a page — timetables,
// the as-run log — add one entry here and one i18n key for its menu label.
import { canSomewhere } from './session.js';

/**
 * @typedef {{ path: string, label: string, visible: () => boolean, load: () => Promise<{ render: (main: HTMLElement, params: URLSearchParams) => (() => void) | void }> }} Route
 * @type {Route[]}
 */
export const ROUTES = [
  { path: 'zones', label: 'nav_zones', visible: () => true, load: () => import('./views/zones.js') },
  { path: 'endpoints', label: 'nav_endpoints', visible: () => true, load: () => import('./views/endpoints.js') },
  { path: 'media', label: 'nav_media', visible: () => true, load: () => import('./views/media.js') },
  { path: 'play', label: 'nav_play', visible: () => canSomewhere('playback.push'), load: () => import('./views/play.js') },
  { path: 'users', label: 'nav_users', visible: () => canSomewhere('users.manage'), load: () => import('./views/users.js') },
];

export const DEFAULT_ROUTE = 'zones';

/** The route and query of a location hash such as "#/endpoints?zone=zon_1". @param {string} hash */
export function parseHash(hash) {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?');
  return { path: path || DEFAULT_ROUTE, params: new URLSearchParams(query) };
}
