// Keyboard input: KeyboardEvent.code -> QEMU key numbers, pressed-key tracking, the Ctrl+Alt grab
// hotkey, and the DOM glue. Everything runs on the renderer's main thread, in event handlers.
import type { InputMessage } from '../../common/contract.js';
import { qnumForCode } from '../../common/keymap.js';

/** The part of a KeyboardEvent the state machine reads: `code` only, never `key`. */
export interface KeyEventLike {
  code: string;
  repeat?: boolean;
}

const CTRL = new Set(['ControlLeft', 'ControlRight']);
const ALT = new Set(['AltLeft', 'AltRight']);

/**
 * Pure keyboard state: which keys the guest believes are down, and the grab hotkey (press Ctrl and
 * Alt, then release both with no other key in between). Emits InputMessages through `send`.
 */
export class KeyboardState {
  private readonly down = new Map<string, number>();
  private hotkeyArmed = false;

  constructor(
    private readonly send: (m: InputMessage) => void,
    private readonly onHotkey: () => void = () => {},
  ) {}

  /** Returns true when the key went to the guest (the caller then calls preventDefault). */
  keyDown(ev: KeyEventLike): boolean {
    const qnum = qnumForCode(ev.code);
    const isCtrl = CTRL.has(ev.code);
    const isAlt = ALT.has(ev.code);
    if (!isCtrl && !isAlt) this.hotkeyArmed = false;
    else if (!ev.repeat && this.onlyCtrlAltDown()) {
      const ctrl = isCtrl || this.anyDown(CTRL);
      const alt = isAlt || this.anyDown(ALT);
      if (ctrl && alt) this.hotkeyArmed = true;
    }
    if (qnum === undefined) return false;
    this.down.set(ev.code, qnum);
    // A held key repeats in the browser; a PC keyboard repeats its make code the same way.
    this.send({ t: 'key', down: true, qnum });
    return true;
  }

  keyUp(ev: KeyEventLike): boolean {
    const qnum = this.down.get(ev.code);
    const fire = this.hotkeyArmed && (CTRL.has(ev.code) || ALT.has(ev.code));
    if (qnum !== undefined) {
      this.down.delete(ev.code);
      this.send({ t: 'key', down: false, qnum });
    }
    if (fire && !this.anyDown(CTRL) && !this.anyDown(ALT)) {
      this.hotkeyArmed = false;
      this.onHotkey();
    }
    return qnum !== undefined;
  }

  /** Releases every key the guest believes is down (focus lost, tab hidden, window closing). */
  releaseAll(): void {
    this.hotkeyArmed = false;
    if (this.down.size === 0) return;
    for (const qnum of this.down.values()) this.send({ t: 'key', down: false, qnum });
    this.down.clear();
    this.send({ t: 'releaseAll' });
  }

  /** QEMU key numbers currently held, in press order. */
  pressed(): number[] {
    return [...this.down.values()];
  }

  private anyDown(set: ReadonlySet<string>): boolean {
    for (const code of this.down.keys()) if (set.has(code)) return true;
    return false;
  }

  private onlyCtrlAltDown(): boolean {
    for (const code of this.down.keys()) if (!CTRL.has(code) && !ALT.has(code)) return false;
    return true;
  }
}

interface KeyboardLock {
  lock(codes?: string[]): Promise<void>;
  unlock(): void;
}

function keyboardLockApi(): KeyboardLock | undefined {
  return (navigator as Navigator & { keyboard?: KeyboardLock }).keyboard;
}

/**
 * Connects a KeyboardState to an element (the focusable display canvas). Releases all keys on
 * blur and when the page is hidden; takes the Keyboard Lock in fullscreen where the browser has it,
 * so Alt+Tab, Escape and friends reach the guest. Returns a function that detaches everything.
 */
export function attachKeyboard(target: HTMLElement, state: KeyboardState): () => void {
  const onDown = (e: KeyboardEvent) => {
    if (e.isComposing) return;
    if (state.keyDown(e)) {
      e.preventDefault();
      e.stopPropagation();
    }
  };
  const onUp = (e: KeyboardEvent) => {
    if (state.keyUp(e)) {
      e.preventDefault();
      e.stopPropagation();
    }
  };
  const release = () => state.releaseAll();
  const onVisibility = () => {
    if (document.visibilityState !== 'visible') state.releaseAll();
  };
  const onFullscreen = () => {
    const api = keyboardLockApi();
    if (!api) return;
    if (document.fullscreenElement)
      api.lock().catch(() => {
        /* not allowed here: keys stay partly the host's */
      });
    else api.unlock();
  };
  target.addEventListener('keydown', onDown);
  target.addEventListener('keyup', onUp);
  target.addEventListener('blur', release);
  window.addEventListener('blur', release);
  document.addEventListener('visibilitychange', onVisibility);
  document.addEventListener('fullscreenchange', onFullscreen);
  return () => {
    state.releaseAll();
    target.removeEventListener('keydown', onDown);
    target.removeEventListener('keyup', onUp);
    target.removeEventListener('blur', release);
    window.removeEventListener('blur', release);
    document.removeEventListener('visibilitychange', onVisibility);
    document.removeEventListener('fullscreenchange', onFullscreen);
    keyboardLockApi()?.unlock();
  };
}
