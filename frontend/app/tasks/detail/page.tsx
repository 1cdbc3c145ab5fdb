import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Spinner } from '../../../components/Spinner';
import { TaskDetailPage } from '../../../features/tasks/TaskDetailPage';

export const metadata: Metadata = { title: 'Task' };

/** `/tasks/detail?id=5`: the id is read in the browser (a static page serves every id). */
export default function Page() {
  return (
    <Suspense fallback={<Spinner label="Loading the task" />}>
      <TaskDetailPage />
    </Suspense>
  );
}
