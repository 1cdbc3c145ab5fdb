import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Spinner } from '../../components/Spinner';
import { TasksPage } from '../../features/tasks/TasksPage';
import en from '../../locales/en.json';

export const metadata: Metadata = { title: en.nav.tasks };

/** The list's filter, sort and search are read from the query string in the browser. */
export default function Page() {
  return (
    <Suspense fallback={<Spinner label={en.common.loadingPage} />}>
      <TasksPage />
    </Suspense>
  );
}
