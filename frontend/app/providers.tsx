'use client';

import { QueryClientProvider } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { Toaster } from 'sonner';
import { AppShell } from '../features/shell/AppShell';
import { LanguageProvider } from '../features/shell/language';
import { t } from '../lib/i18n';
import { makeQueryClient } from '../lib/query-client';

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(makeQueryClient);
  return (
    <QueryClientProvider client={client}>
      <LanguageProvider>
        <AppShell>{children}</AppShell>
        {/* Inside: its own words (the close button, the region's name) follow the language. */}
        <Toaster
          theme="system"
          position="bottom-right"
          richColors
          closeButton
          duration={6000}
          containerAriaLabel={t('toast.region')}
          toastOptions={{ closeButtonAriaLabel: t('toast.close') }}
        />
      </LanguageProvider>
    </QueryClientProvider>
  );
}
