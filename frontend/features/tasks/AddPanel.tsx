'use client';

import { type ReactNode, useState } from 'react';
import { CloseIcon, PlusIcon } from '../../components/Icons';
import { t } from '../../lib/i18n';

/**
 * The add form behind a "+" button on a phone, so the task list starts on the first screen; a wider
 * screen shows the form as it is and never the button (globals.css: `.add-panel`).
 */
export function AddPanel({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <div className={`add-panel${open ? ' is-open' : ''}`}>
      <div className="add-toggle">
        <button
          type="button"
          className={`btn btn-sm ${open ? 'btn-secondary' : 'btn-primary'}`}
          aria-expanded={open}
          aria-controls="add-panel-body"
          onClick={() => setOpen((o) => !o)}
        >
          {open ? <CloseIcon /> : <PlusIcon />}
          <span className="btn-label">{open ? t('shell.addPanel.close') : t('shell.addPanel.open')}</span>
        </button>
      </div>
      <div className="add-panel-body" id="add-panel-body">
        {children}
      </div>
    </div>
  );
}
