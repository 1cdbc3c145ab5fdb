'use client';

import { QueryClientProvider } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { AppShell } from '../features/shell/AppShell';
import { LanguageProvider } from '../features/shell/language';
import { Toasts } from '../features/shell/Toasts';
import { makeQueryClient } from '../lib/query-client';

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(makeQueryClient);
  return (
    <QueryClientProvider client={client}>
      <LanguageProvider>
        <AppShell>{children}</AppShell>
        {/* Inside: its own words (the close button, the region's name) follow the language. */}
        <Toasts />
      </LanguageProvider>
    </QueryClientProvider>
  );
}
