import { useCallback, useRef, useState, type ReactNode, type RefObject } from 'react';
import type { KjuBridge, VmSummary } from '../../common/contract.js';
import type { Viewer } from '../display/viewer.js';
import { SCALE_MODES, type ScaleMode } from '../display/scaling.js';
import { BLITTER_SETTINGS, type BlitterSetting } from '../display/display-blitter.js';

const BLITTER_LABELS: Record<BlitterSetting, string> = { auto: 'Auto', webgl: 'WebGL2', canvas2d: 'Canvas 2D' };
import { KEY_COMBOS } from '../input/combos.js';
import { GUEST_SIZE_SETTINGS, guestSizeMode, type GuestSizeSetting } from '../display/guest-size.js';
import { useSettings } from '../state/settings.js';
import { useVmWindow } from '../state/vm-window.js';
import { useLibrary } from '../state/library.js';
import { libraryHref } from './route.js';
import { VmControls } from './VmControls.js';
import { UsbMenu } from './GuestLinks.js';
import { useDismiss } from './useDismiss.js';

const GUEST_SIZE_LABELS: Record<GuestSizeSetting, string> = { auto: 'Auto', resize: 'Resize guest to window', scale: 'Scale' };
const SCALE_LABELS: Record<ScaleMode, string> = { fit: 'Fit', 'one-to-one': '1:1', fill: 'Fill' };

interface Props {
  viewer: Viewer | null;
  vmName: string;
  bridge: KjuBridge;
  vm?: VmSummary;
  fullscreenTarget: RefObject<HTMLElement | null>;
}

export function Toolbar({ viewer, vmName, fullscreenTarget, bridge, vm }: Props) {
  const rowError = useLibrary((s) => (vm ? s.rowErrors[vm.id] : undefined));
  const scaleMode = useSettings((s) => s.scaleMode);
  const integerScale = useSettings((s) => s.integerScale);
  const blitter = useSettings((s) => s.blitter);
  const guestSize = useSettings((s) => s.guestSize);
  const head = useVmWindow((s) => s.head);
  const heads = vm?.displays ?? 1;
  const grabbed = useVmWindow((s) => s.viewer.grabbed);
  const absolute = useVmWindow((s) => s.viewer.absolute);
  const clipboard = useVmWindow((s) => s.viewer.clipboard);

  const fullscreen = () => {
    const el = fullscreenTarget.current;
    if (!el) return;
    if (document.fullscreenElement) void document.exitFullscreen();
    else void el.requestFullscreen({ navigationUI: 'hide' }).catch(() => {});
  };

  return (
    <div className="toolbar" role="toolbar">
      <a className="toolbar-back" href={libraryHref()} title="Library">
        ‹
      </a>
      <span className="toolbar-title" title={vmName}>
        {vmName}
      </span>
      {vm && <VmControls bridge={bridge} vm={vm} />}
      <select
        className="combo-menu"
        aria-label="Send key combination"
        value=""
        disabled={!viewer}
        onChange={(e) => {
          const id = e.target.value;
          if (id && viewer) void viewer.sendCombo(id);
        }}
      >
        <option value="">Send keys…</option>
        {KEY_COMBOS.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label}
          </option>
        ))}
      </select>
      {rowError && (
        <span className="toolbar-error" role="alert" title={rowError}>
          {rowError}
        </span>
      )}
      <span className="toolbar-spacer" />
      <span className="grab-hint" data-testid="grab-hint">
        {grabbed ? 'Press Ctrl+Alt to release' : absolute ? '' : 'Click the screen to capture the mouse'}
      </span>
      <MoreMenu>
        {heads > 1 && (
          <label className="toolbar-field" title="This VM has several displays (heads); this window shows one">
            Display
            <select data-testid="head-setting" value={head} onChange={(e) => useVmWindow.getState().setHead(Number(e.target.value))}>
              {Array.from({ length: heads }, (_, k) => (
                <option key={k} value={k}>
                  {k + 1} of {heads}
                </option>
              ))}
            </select>
          </label>
        )}
        <label
          className="toolbar-field"
          title={`Resize: the guest takes the window's size (virtio-vga with a guest that follows). Scale: the guest keeps its size, drawn scaled. Auto here: ${GUEST_SIZE_LABELS[guestSizeMode('auto', vm?.displayDevice)]}`}
        >
          Guest size
          <select data-testid="guest-size-setting" value={guestSize} onChange={(e) => useSettings.getState().setGuestSize(e.target.value as GuestSizeSetting)}>
            {GUEST_SIZE_SETTINGS.map((g) => (
              <option key={g} value={g}>
                {GUEST_SIZE_LABELS[g]}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-field">
          Scale
          <select data-testid="scale-setting" value={scaleMode} onChange={(e) => useSettings.getState().setScaleMode(e.target.value as ScaleMode)}>
            {SCALE_MODES.map((m) => (
              <option key={m} value={m}>
                {SCALE_LABELS[m]}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-field" title="Whole-number scaling in Fit mode: sharp pixels">
          <input type="checkbox" checked={integerScale} onChange={(e) => useSettings.getState().setIntegerScale(e.target.checked)} />
          Integer scaling
        </label>
        <label className="toolbar-field" title="Auto: WebGL2 on a GPU, Canvas 2D where WebGL is software. A change reopens the display.">
          Draw
          <select data-testid="blitter-setting" value={blitter} onChange={(e) => useSettings.getState().setBlitter(e.target.value as BlitterSetting)}>
            {BLITTER_SETTINGS.map((b) => (
              <option key={b} value={b}>
                {BLITTER_LABELS[b]}
              </option>
            ))}
          </select>
        </label>
        <hr />
        <label
          className="toolbar-field"
          title={
            clipboard?.notice ??
            (clipboard?.available
              ? "Share this page's clipboard with the guest: read when the window gets focus, guest text written to it"
              : 'This VM does not share its clipboard (or this window cannot carry it)')
          }
        >
          <input
            type="checkbox"
            data-testid="clipboard-share"
            disabled={!viewer || !clipboard?.available}
            checked={!!clipboard?.shared}
            onChange={(e) => viewer?.setClipboardShared(e.target.checked)}
          />
          Share clipboard
          <span className="more-state" data-testid="clipboard-state">
            Clipboard: {clipboard?.shared ? 'on' : 'off'}
          </span>
        </label>
        {vm && <UsbMenu bridge={bridge} vm={vm} />}
        <button type="button" onClick={fullscreen} title="Fullscreen">
          Fullscreen
        </button>
      </MoreMenu>
    </div>
  );
}

/** The toolbar's overflow: view settings, clipboard, USB and fullscreen, in a popover that Escape and an outside press close. */
function MoreMenu({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const area = useRef<HTMLSpanElement>(null);
  const close = useCallback(() => setOpen(false), []);
  useDismiss(open, area, close);
  return (
    <span className="menu-anchor" ref={area}>
      <button type="button" aria-haspopup="dialog" aria-expanded={open} onClick={() => setOpen(!open)}>
        More
      </button>
      {open && (
        <div className="menu more-menu" role="dialog" aria-label="More controls">
          {children}
        </div>
      )}
    </span>
  );
}
