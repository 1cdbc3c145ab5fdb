import type { Metadata } from 'next';
import { AdminOnly } from '../../features/auth/AdminOnly';
import { UsersPage } from '../../features/users/UsersPage';

export const metadata: Metadata = { title: 'Users' };

export default function Page() {
  return (
    <AdminOnly>
      <UsersPage />
    </AdminOnly>
  );
}
