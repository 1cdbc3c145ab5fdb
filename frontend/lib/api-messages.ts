/**
 * The server's error sentences stay English (the API's contract); the UI shows the ones it knows in
 * the reader's language. Each entry is the exact sentence, its variable parts captured as parameters
 * of the catalog sentence; a sentence not listed here is shown as sent.
 */
import { t } from './i18n';

type Entry = readonly [pattern: RegExp, key: string, params?: readonly string[]];

const EXACT: Record<string, string> = {
  'Admin required': 'api.adminRequired',
  'The server cannot be reached. Check your connection.': 'api.unreachable',
  'Not authenticated': 'api.notAuthenticated',
  'Current password is incorrect': 'api.currentPasswordIncorrect',
  'Invalid username or password': 'api.badCredentials',
  'Too many failed sign-in attempts; try again later': 'api.tooManySignIns',
  'Too many requests; try again later': 'api.tooManyRequests',
  'Too many wrong passwords; try again later': 'api.tooManyWrongPasswords',
  'Wrong password': 'api.wrongPassword',
  'File not found': 'api.fileNotFound',
  'Link not found': 'api.linkNotFound',
  'Path not found': 'api.pathNotFound',
  'Share not found': 'api.shareNotFound',
  'Task not found': 'api.taskNotFound',
  'Token not found': 'api.tokenNotFound',
  'User not found': 'api.userNotFound',
  'Username already exists': 'api.usernameExists',
  'You cannot delete your own account': 'api.cannotDeleteSelf',
  'You cannot remove your own admin rights': 'api.cannotUnadminSelf',
  'Your storage quota is used up': 'api.quotaUsedUp',
  'No automatic retry is planned for this task': 'api.noAutoRetry',
  'No retry is planned for this task': 'api.noRetryPlanned',
  'Only a current download can be stopped': 'api.onlyCurrentStop',
  'Only a paused download can be resumed': 'api.onlyPausedResume',
  'Only a waiting download can be moved': 'api.onlyWaitingMove',
  'Only an active or waiting download can be paused': 'api.onlyActivePause',
  'This task has no stored .torrent file': 'api.noStoredTorrent',
  'This task is being retried': 'api.beingRetried',
  'aria2 is unavailable; try again shortly': 'api.aria2Unavailable',
  'Torrent tasks cannot be retried. Please re-upload the torrent file.': 'api.torrentRetry',
  'Only failed or stopped tasks can be retried': 'api.notRetryable',
  'Only a torrent task can be re-uploaded': 'api.notTorrent',
  'This download is already in your list': 'api.duplicate',
  'No retryable tasks (torrent tasks need to be re-uploaded)': 'api.noRetryable',
  'Invalid uri: it is empty': 'api.uriEmpty',
  'Invalid uri: it is not a valid URL': 'api.uriNotUrl',
  'Invalid uri: it contains white space or control characters': 'api.uriWhiteSpace',
  'Invalid uri: it is longer than 16 KiB': 'api.uriTooLong',
  'Invalid uri: a magnet link needs xt=urn:btih:<info hash>': 'api.magnetNeedsHash',
  'Invalid path: choose a file or folder inside your folder': 'api.pathOutside',
  'Invalid path: it is a file, not a folder': 'api.pathIsFile',
  'Invalid to: a folder cannot move into itself': 'api.moveIntoItself',
  'Invalid expires_at: it is in the past': 'api.expiresPast',
};

// The server's "GB" is 1024³ bytes: the UI writes it GiB, with the same number.
const GB = String.raw`([\d.]+) GB`;
const PATTERNS: readonly Entry[] = [
  [new RegExp(`^File size ${GB} exceeds limit ${GB}$`), 'api.fileTooLarge', ['size', 'limit']],
  [new RegExp(`^Insufficient disk space, remaining ${GB}$`), 'api.diskFull', ['free']],
  [
    new RegExp(`^File size ${GB} exceeds your available space ${GB}$`),
    'api.exceedsAvailable',
    ['size', 'available'],
  ],
  [/^You have too many downloads in progress \(limit (\d+)\)$/, 'api.tooManyDownloads', ['limit']],
  [/^You have too many API tokens \(limit (\d+)\); revoke one first$/, 'api.tooManyTokens', ['limit']],
  [/^Invalid torrent: larger than (\d+) MiB$/, 'api.torrentTooLarge', ['mib']],
  [/^Invalid uri: the scheme must be one of (.+)$/, 'api.uriScheme', ['schemes']],
  [/^aria2 is unavailable: (.+)$/, 'api.aria2UnavailableWhy', ['reason']],
  [/^aria2 refused: (.+)$/, 'api.aria2Refused', ['reason']],
  [/^Failed to create aria2 task: (.+)$/, 'api.createFailed', ['reason']],
  [/^The user was deleted, but their folder could not be removed \((.+)\)$/, 'api.userFolderKept', ['code']],
];

/** A server sentence in the reader's language when it is a known one; otherwise as sent. */
export function translateDetail(detail: string): string {
  const key = EXACT[detail];
  if (key) return t(key);
  for (const [pattern, k, params = []] of PATTERNS) {
    const m = pattern.exec(detail);
    if (!m) continue;
    const values: Record<string, string> = {};
    params.forEach((p, i) => {
      values[p] = m[i + 1] ?? '';
    });
    return t(k, values);
  }
  return detail;
}
