import type { Metadata } from 'next';
import { AdminOnly } from '../../features/auth/AdminOnly';
import { SettingsPage } from '../../features/settings/SettingsPage';

export const metadata: Metadata = { title: 'Settings' };

export default function Page() {
  return (
    <AdminOnly>
      <SettingsPage />
    </AdminOnly>
  );
}
