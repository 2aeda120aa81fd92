// The headless-Chromium driver the browser tests use; it lives with the tutorials
// (tutorials/helpers/chromium.ts) since tutorial 13 drives pages too.
export * from '../../../tutorials/helpers/chromium.js';
