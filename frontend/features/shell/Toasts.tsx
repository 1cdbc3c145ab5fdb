'use client';

import { Toaster } from 'sonner';
import { useMediaQuery } from '../../lib/hooks';
import { t } from '../../lib/i18n';
import { useResolvedTheme } from '../../lib/theme';

/**
 * Where toasts appear, clear of the task rows' buttons: on a phone at the bottom, across the screen
 * (the first rows sit at the top); on a wider screen at the top centre, just below the header, where
 * a page's title line leaves space and no row has its buttons.
 */
export function Toasts() {
  const theme = useResolvedTheme();
  // The breakpoint of the phone layout in globals.css.
  const phone = useMediaQuery('(max-width: 760px)');
  return (
    <Toaster
      theme={theme}
      position={phone ? 'bottom-center' : 'top-center'}
      offset={phone ? { bottom: 12, left: 12, right: 12 } : { top: 'calc(var(--topbar-h) + 8px)' }}
      mobileOffset={{ bottom: 12, left: 12, right: 12 }}
      richColors
      closeButton
      duration={6000}
      containerAriaLabel={t('toast.region')}
      toastOptions={{ closeButtonAriaLabel: t('toast.close') }}
    />
  );
}
