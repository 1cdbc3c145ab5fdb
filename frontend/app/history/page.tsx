import type { Metadata } from 'next';
import { HistoryPage } from '../../features/history/HistoryPage';
import en from '../../locales/en.json';

export const metadata: Metadata = { title: en.nav.history };

export default function Page() {
  return <HistoryPage />;
}
