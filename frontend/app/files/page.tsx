import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Spinner } from '../../components/Spinner';
import { FilesPage } from '../../features/files/FilesPage';
import en from '../../locales/en.json';

export const metadata: Metadata = { title: en.nav.files };

/** `/files?path=Movies/2024`: the folder is read in the browser (a static page serves every folder). */
export default function Page() {
  return (
    <Suspense fallback={<Spinner label={en.common.loadingPage} />}>
      <FilesPage />
    </Suspense>
  );
}
