/**
 * The transport's refusals use the library's error classes; this name stays for imports made
 * against earlier versions.
 */
export { PermissionError } from '../../errors.js';
