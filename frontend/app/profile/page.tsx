import type { Metadata } from 'next';
import { ProfilePage } from '../../features/auth/ProfilePage';
import en from '../../locales/en.json';

export const metadata: Metadata = { title: en.nav.profile };

export default function Page() {
  return <ProfilePage />;
}
