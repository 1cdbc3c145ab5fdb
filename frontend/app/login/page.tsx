import type { Metadata } from 'next';
import { LoginPage } from '../../features/auth/LoginPage';
import en from '../../locales/en.json';

export const metadata: Metadata = { title: en.login.title };

export default function Page() {
  return <LoginPage />;
}
