import type { Metadata } from 'next';
import { AdminOnly } from '../../features/auth/AdminOnly';
import { SettingsPage } from '../../features/settings/SettingsPage';
import en from '../../locales/en.json';

export const metadata: Metadata = { title: en.nav.settings };

export default function Page() {
  return (
    <AdminOnly>
      <SettingsPage />
    </AdminOnly>
  );
}
