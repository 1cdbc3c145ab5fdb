import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Spinner } from '../../components/Spinner';
import { FilesPage } from '../../features/files/FilesPage';

export const metadata: Metadata = { title: 'Files' };

/** `/files?path=Movies/2024`: the folder is read in the browser (a static page serves every folder). */
export default function Page() {
  return (
    <Suspense fallback={<Spinner label="Loading your files" />}>
      <FilesPage />
    </Suspense>
  );
}
