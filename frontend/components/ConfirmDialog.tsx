'use client';

import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { t } from '../lib/i18n';
import { Button } from './Button';
import { Dialog } from './Dialog';

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  message?: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  busy?: boolean;
  /** An optional checkbox (e.g. "Also delete files"), unchecked on every opening. */
  checkboxLabel?: string;
  onConfirm: (checked: boolean) => void;
  onCancel: () => void;
}

/** An in-page confirmation (never `window.confirm`). */
export function ConfirmDialog({
  open,
  title,
  message,
  confirmLabel,
  cancelLabel = t('common.cancel'),
  danger,
  busy,
  checkboxLabel,
  onConfirm,
  onCancel,
}: ConfirmDialogProps) {
  const [checked, setChecked] = useState(false);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const checkboxId = useId();
  useEffect(() => {
    if (open) setChecked(false);
  }, [open]);
  return (
    <Dialog
      open={open}
      onClose={busy ? () => {} : onCancel}
      title={title}
      description={message}
      initialFocus={cancelRef}
      footer={
        <>
          <Button ref={cancelRef} onClick={onCancel} disabled={busy}>
            {cancelLabel}
          </Button>
          <Button variant={danger ? 'danger' : 'primary'} busy={busy} onClick={() => onConfirm(checked)}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      {checkboxLabel ? (
        <div className="check">
          <input
            id={checkboxId}
            type="checkbox"
            checked={checked}
            onChange={(e) => setChecked(e.currentTarget.checked)}
            disabled={busy}
          />
          <label htmlFor={checkboxId}>{checkboxLabel}</label>
        </div>
      ) : null}
    </Dialog>
  );
}
