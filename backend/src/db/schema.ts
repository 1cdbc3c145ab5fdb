import type { Generated } from 'kysely';

/** Times are ISO 8601 UTC strings to the second ("2026-01-23T10:00:00Z"); they sort as text. */
export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  is_admin: number;
  quota: number;
  /** Bytes in the user's folder, kept incrementally. */
  used_space: Generated<number>;
  created_at: string;
  /** The download daemon the user lives on (migration 009). */
  node: Generated<string>;
  /** 1 until the user chooses their own password (migration 013). */
  must_change_password: Generated<number>;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value; the value itself is never stored. */
  id_hash: string;
  user_id: number;
  created_at: string;
  /** Epoch milliseconds; slides forward on use. */
  expires_at: number;
}

export interface TasksTable {
  id: Generated<number>;
  owner_id: number;
  gid: string | null;
  uri: string;
  /** The URI as shown: credentials masked (what responses and search see). */
  display_uri: string;
  /** The .torrent file of an uploaded torrent, kept so the download can be handed to aria2 again. */
  torrent: Buffer | null;
  status: string;
  name: string | null;
  total_length: Generated<number>;
  completed_length: Generated<number>;
  download_speed: Generated<number>;
  upload_speed: Generated<number>;
  error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  artifact_path: string | null;
  artifact_token: string | null;
  /** The option set (JSON object of whitelisted aria2 options given at creation); null for none. */
  option_set: string | null;
  /** The aria2 `dir` the download runs in (absolute, never shown). */
  dir: string;
  info_hash: string | null;
  /** The metadata download's gid this task started as (magnets, torrent URLs) before following. */
  origin_gid: string | null;
  /** Set on the old task while a retry replaces it: the new task's id. */
  replaced_by: number | null;
  /** Set on a task created by a retry until the old row is gone: the old task's id. */
  retry_of: number | null;
  /** Bytes this task's finished files were counted with in its owner's used space. */
  counted_bytes: Generated<number>;
  /**
   * Set while the controller holds the download paused in aria2 until the fair admission lets it start
   * ('queue' until decided, then 'user_limit' or 'slots'); null otherwise. New rows start held.
   */
  held_for: Generated<string | null>;
  /** 1 for a first try; one more for each retry of a planned task (docs/auto-retry.md). */
  attempt: Generated<number>;
  /** The add's own number of automatic retries; null: the admin setting; 0: none (or cancelled). */
  auto_retry: number | null;
  /** When the auto-retry scheduler retries this failed task; null when nothing is planned. */
  next_retry_at: string | null;
  /** aria2's errorCode of the failure (null for the controller's own reasons). */
  error_code: string | null;
  /** A waiting task's place among its owner's waiting tasks in aria2's queue (0 first); null otherwise. */
  queue_position: Generated<number | null>;
  /** The download daemon the task runs on (gateway/registry.ts); 'local' until there are several. */
  node: Generated<string>;
}

/** One copy of each distinct set of task options, shared by every row that has it. */
export interface OptionSetsTable {
  /** SHA-256 (hex) of `options`. */
  hash: string;
  options: string;
}

/**
 * Signed changes of how many tasks an owner has in a status (migration 011): the sum of `n` per owner
 * and status is the number of task rows, kept by triggers in the transactions that change them.
 */
export interface TaskCountsTable {
  owner_id: number;
  status: string;
  n: number;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface SharesTable {
  id: Generated<number>;
  owner_id: number;
  /** The shared file or folder, relative to the owner's folder; follows moves. */
  path: string;
  /** Random; the token is an HMAC of it under the controller's share secret (so a list can show the link). */
  nonce: string;
  /** SHA-256 of the token: a link is found by it, and a database alone yields no working link. */
  token_hash: string;
  password_hash: string | null;
  expires_at: string | null;
  max_downloads: number | null;
  downloads: Generated<number>;
  revoked_at: string | null;
  created_at: string;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** SHA-256 (hex) of the secret; the secret is shown once, at creation, and never stored. */
  token_hash: string;
  created_at: string;
  /** Written at most once a minute per token, so a polling client costs no write per call. */
  last_used_at: string | null;
}

/** Something only one instance may drive at a time (a node's sync), and who drives it until when. */
export interface LeasesTable {
  name: string;
  /** The random id of the instance (process) holding it. */
  holder: string;
  /** Epoch milliseconds; past it, any instance may take the lease. */
  expires_at: number;
}

/** One failed sign-in (or share-password guess), counted in a sliding window per key. */
export interface LoginFailuresTable {
  id: Generated<number>;
  /** Which counter: sign-in by username or address, share password by share or address. */
  scope: string;
  key: string;
  /** Epoch milliseconds. */
  at: number;
}

/** A task an instance is handing to its daemon (or taking out) right now: every sync leaves it alone. */
/** A value every instance must share, written once (migration 013). */
export interface SecretsTable {
  name: string;
  value: string;
}

/** A running instance's loopback egress proxy (migration 013). */
export interface EgressProxiesTable {
  /** The instance id, as in `leases.holder`. */
  holder: string;
  url: string;
  username: string;
  password: string;
}

export interface HandOversTable {
  task_id: number;
  holder: string;
  /** Epoch milliseconds; a crashed instance's marks lapse by themselves. */
  expires_at: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  tasks: TasksTable;
  settings: SettingsTable;
  option_sets: OptionSetsTable;
  shares: SharesTable;
  api_tokens: ApiTokensTable;
  leases: LeasesTable;
  login_failures: LoginFailuresTable;
  hand_overs: HandOversTable;
  task_counts: TaskCountsTable;
  secrets: SecretsTable;
  egress_proxies: EgressProxiesTable;
}
