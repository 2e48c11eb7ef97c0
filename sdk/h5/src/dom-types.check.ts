/**
 * Compiled by the package's tsconfig only (never bundled): the browser's window, as the DOM types
 * describe it, must fit the part of it this SDK declares.
 */
import type { BrowserEnv } from './index.js';

export const realWindow: BrowserEnv = window;
