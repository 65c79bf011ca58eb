import { useEffect, type ReactNode } from 'react';

/** A centred sheet over the window; Escape or the backdrop closes it unless `locked`. */
export function Modal({ title, onClose, locked, children, wide }: { title: string; onClose: () => void; locked?: boolean; children: ReactNode; wide?: boolean }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !locked) onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose, locked]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !locked && onClose()}>
      <div className={wide ? 'modal modal-wide' : 'modal'} role="dialog" aria-modal="true" aria-label={title}>
        <h2 className="modal-title">{title}</h2>
        {children}
      </div>
    </div>
  );
}

/**
 * The VM's "Share clipboard" setting, as the wizard and the Edit dialog show it. The hint says the
 * price the suspend refusal names: QEMU cannot migrate the clipboard channel.
 */
export function ClipboardSwitch({ id, checked, onChange, error }: { id: string; checked: boolean; onChange: (on: boolean) => void; error?: string }) {
  return (
    <div className={error ? 'field field-bad' : 'field'}>
      <label className="check">
        <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} /> Share clipboard
      </label>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : (
        <p className="field-hint">Copy and paste between this computer and the guest (needs the guest agent). A VM that shares its clipboard cannot be suspended or snapshotted while it runs.</p>
      )}
    </div>
  );
}

/** A labelled input with its inline error; `id` ties the label, the input and the message. */
export function Field({ id, label, error, hint, children }: { id: string; label: string; error?: string; hint?: ReactNode; children: ReactNode }) {
  return (
    <div className={error ? 'field field-bad' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {error ? (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : hint ? (
        <p className="field-hint">{hint}</p>
      ) : null}
    </div>
  );
}
