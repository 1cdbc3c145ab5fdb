import type { Metadata } from 'next';
import { AdminOnly } from '../../features/auth/AdminOnly';
import { UsersPage } from '../../features/users/UsersPage';
import en from '../../locales/en.json';

export const metadata: Metadata = { title: en.nav.users };

export default function Page() {
  return (
    <AdminOnly>
      <UsersPage />
    </AdminOnly>
  );
}
