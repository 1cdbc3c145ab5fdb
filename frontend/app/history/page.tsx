import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Spinner } from '../../components/Spinner';
import { HistoryPage } from '../../features/history/HistoryPage';
import en from '../../locales/en.json';

export const metadata: Metadata = { title: en.nav.history };

/** The list's filter, sort and search are read from the query string in the browser. */
export default function Page() {
  return (
    <Suspense fallback={<Spinner label={en.common.loadingPage} />}>
      <HistoryPage />
    </Suspense>
  );
}
