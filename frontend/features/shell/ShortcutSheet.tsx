'use client';

import { useEffect, useState } from 'react';
import { Dialog } from '../../components/Dialog';
import { KeyboardIcon } from '../../components/Icons';
import { t } from '../../lib/i18n';
import { TASK_ACTIONS } from '../tasks/actions';

/** A row action's key as the sheet shows it ("p" -> "P"). */
const key = (id: 'pause' | 'retry' | 'delete') => {
  const k = TASK_ACTIONS[id].shortcut ?? '';
  return k.length === 1 ? k.toUpperCase() : k;
};

/** The keys the UI answers to (the task list's come from the action registry's shortcuts). */
const SHORTCUTS: readonly { keys: readonly string[]; what: string }[] = [
  { keys: ['?'], what: 'shell.shortcuts.help' },
  { keys: [key('pause')], what: 'shell.shortcuts.pause' },
  { keys: [key('retry')], what: 'shell.shortcuts.retry' },
  { keys: [key('delete')], what: 'shell.shortcuts.delete' },
  { keys: ['shell.shortcuts.rangeKey'], what: 'shell.shortcuts.range' },
  { keys: ['shell.shortcuts.moveKey'], what: 'shell.shortcuts.move' },
  { keys: ['shell.shortcuts.closeKey'], what: 'shell.shortcuts.close' },
];

/** Keys typed into a field are text, not shortcuts. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || Boolean(target.closest('input, textarea, select'));
}

/**
 * `?` (outside a text field, with no dialog open) opens the list of keyboard shortcuts; the header's
 * keyboard button opens it too, and says the key.
 */
export function ShortcutSheet() {
  const [open, setOpen] = useState(false);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '?' || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTyping(event.target) || document.querySelector('dialog[open]')) return;
      event.preventDefault();
      setOpen(true);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <>
      <button
        type="button"
        className="icon-btn shortcuts-btn"
        aria-label={t('shell.shortcuts.open')}
        title={t('shell.shortcuts.open')}
        aria-haspopup="dialog"
        onClick={() => setOpen(true)}
      >
        <KeyboardIcon />
      </button>
      <Dialog
        open={open}
        onClose={() => setOpen(false)}
        title={t('shell.shortcuts.title')}
        description={t('shell.shortcuts.intro')}
        className="shortcuts-dialog"
      >
        <table className="table shortcuts-table">
          <thead>
            <tr>
              <th scope="col">{t('shell.shortcuts.keyCol')}</th>
              <th scope="col">{t('shell.shortcuts.whatCol')}</th>
            </tr>
          </thead>
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.what}>
                <td>
                  {s.keys.map((k) => (
                    <kbd key={k}>{k.startsWith('shell.') ? t(k) : k}</kbd>
                  ))}
                </td>
                <td>{t(s.what)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Dialog>
    </>
  );
}
