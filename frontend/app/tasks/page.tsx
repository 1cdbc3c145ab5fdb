import type { Metadata } from 'next';
import { TasksPage } from '../../features/tasks/TasksPage';
import en from '../../locales/en.json';

export const metadata: Metadata = { title: en.nav.tasks };

export default function Page() {
  return <TasksPage />;
}
