import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Spinner } from '../../../components/Spinner';
import { TaskDetailPage } from '../../../features/tasks/TaskDetailPage';
import en from '../../../locales/en.json';

export const metadata: Metadata = { title: en.detail.title };

/** `/tasks/detail?id=5`: the id is read in the browser (a static page serves every id). */
export default function Page() {
  return (
    <Suspense fallback={<Spinner label={en.common.loadingPage} />}>
      <TaskDetailPage />
    </Suspense>
  );
}
