'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

/** `/` is the tasks page. */
export function HomeRedirect() {
  const router = useRouter();
  useEffect(() => {
    router.replace('/tasks');
  }, [router]);
  return (
    <p className="muted">
      Opening <Link href="/tasks">your tasks</Link>…
    </p>
  );
}
