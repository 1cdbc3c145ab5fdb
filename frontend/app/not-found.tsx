import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="empty">
      <p className="empty-title">This page does not exist.</p>
      <p>
        <Link href="/tasks">Go to your tasks</Link>
      </p>
    </div>
  );
}
