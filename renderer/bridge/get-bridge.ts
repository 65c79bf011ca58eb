// The renderer's one way to the outside: the Electron preload's `window.kju` when present, else the
// kju serve WebSocket client. Both implement KjuBridge from the contract.
import type { KjuBridge } from '../../common/contract.js';
import { createWsBridge } from './ws-bridge.js';

declare global {
  interface Window {
    /** exposed by the Electron preload through contextBridge */
    kju?: KjuBridge;
  }
}

let bridge: KjuBridge | undefined;

/** The bridge of this window, made on first use and shared afterwards. */
export function getBridge(): KjuBridge {
  bridge ??= window.kju ?? createWsBridge();
  return bridge;
}
