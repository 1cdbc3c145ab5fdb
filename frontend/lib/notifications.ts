/** Opt-in browser notifications when a download completes or fails. */
const KEY = 'aria2c.notifications';

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

export function notificationsEnabled(): boolean {
  if (!notificationsSupported()) return false;
  try {
    return localStorage.getItem(KEY) === 'on' && Notification.permission === 'granted';
  } catch {
    return false;
  }
}

/** Asks for permission when needed; true when notifications are now on. */
export async function enableNotifications(): Promise<boolean> {
  if (!notificationsSupported()) return false;
  let permission = Notification.permission;
  if (permission === 'default') permission = await Notification.requestPermission();
  const on = permission === 'granted';
  try {
    localStorage.setItem(KEY, on ? 'on' : 'off');
  } catch {
    // private mode: on for this page only
  }
  return on;
}

export function disableNotifications(): void {
  try {
    localStorage.setItem(KEY, 'off');
  } catch {
    // ignore
  }
}

export function notify(title: string, body: string, tag: string): void {
  if (!notificationsEnabled()) return;
  try {
    const n = new Notification(title, { body, tag });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  } catch {
    // some browsers only allow notifications from a service worker
  }
}
