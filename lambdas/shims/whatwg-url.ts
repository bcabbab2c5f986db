/**
 * Stands in for the `whatwg-url` package in the functions' bundles. node-fetch 2 (client-node's
 * HTTP client) takes `URL` from Node's `url` module and falls back to whatwg-url only where Node
 * has none; Node always has one, so the fallback's Unicode tables (tr46, a tenth of a bundle)
 * would never run. Node's own WHATWG URL is what it gets instead.
 */
export const URL = globalThis.URL;
export const URLSearchParams = globalThis.URLSearchParams;
/** node-fetch's ES module build imports the package's default export. */
export default { URL, URLSearchParams };
