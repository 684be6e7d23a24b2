// @ts-check
// The one way the app talks to the server: /api/v1, bearer token from the session, the
// user's language in Accept-Language so that the server's error sentences come back in it.
import { getLang, t } from './i18n.js';

export const API = '/api/v1';
const TOKEN_KEY = 'loa.token';

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** @type {() => void} */
let onUnauthorized = () => {};

/** What to do when the server says the token is no longer good (go back to the login page). */
export function setUnauthorizedHandler(/** @type {() => void} */ fn) {
  onUnauthorized = fn;
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** @param {string | null} token */
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(/** @type {Record<string, string>} */ extra = {}) {
  /** @type {Record<string, string>} */
  const h = { 'accept-language': getLang(), accept: 'application/json', ...extra };
  const token = getToken();
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

/** Turns a failed response into an ApiError carrying the server's own sentence. @param {Response} res */
async function failure(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy page, an empty body): the status must do.
  }
  const message = body && typeof body.message === 'string' ? body.message : `HTTP ${res.status}`;
  const code = body && typeof body.error === 'string' ? body.error : 'http';
  return new ApiError(res.status, code, message);
}

/**
 * @param {string} method
 * @param {string} path under /api/v1, e.g. "/zones"
 * @param {unknown} [body]
 * @param {{ auth?: boolean }} [opts] auth=false: a 401 is an answer (login), not an expired session
 * @returns {Promise<any>}
 */
export async function api(method, path, body, opts = {}) {
  let res;
  try {
    res = await fetch(API + path, {
      method,
      headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', t('network_error'));
  }
  if (!res.ok) {
    const err = await failure(res);
    if (res.status === 401 && opts.auth !== false) onUnauthorized();
    throw err;
  }
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') ?? '';
  return type.includes('json') ? res.json() : res.text();
}

/** A binary resource (media download) as a Blob, with the token the <audio> element cannot send. */
export async function apiBlob(/** @type {string} */ path) {
  let res;
  try {
    res = await fetch(API + path, { headers: headers({ accept: '*/*' }) });
  } catch {
    throw new ApiError(0, 'network', t('network_error'));
  }
  if (!res.ok) {
    const err = await failure(res);
    if (res.status === 401) onUnauthorized();
    throw err;
  }
  return res.blob();
}

/**
 * A multipart upload with progress (fetch cannot report upload progress; XMLHttpRequest can).
 * @param {string} path
 * @param {FormData} form
 * @param {(sent: number, total: number) => void} onProgress
 * @returns {Promise<any>}
 */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', API + path);
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', t('network_error')));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      if (xhr.status === 401) onUnauthorized();
      reject(
        new ApiError(
          xhr.status,
          body?.error ?? 'http',
          typeof body?.message === 'string' ? body.message : `HTTP ${xhr.status}`,
        ),
      );
    };
    xhr.send(form);
  });
}
