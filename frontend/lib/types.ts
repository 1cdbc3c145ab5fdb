/**
 * The API contract, as types only. Everything comes from the backend's zod contracts
 * (`backend/src/contracts`); nothing here exists at runtime.
 */
import type {
  batchCreateResponse,
  health,
  machineStats,
  settings,
  settingsPatch,
  taskDetail,
  taskList,
} from '@contracts';
import type { z } from 'zod';

export type {
  CreateUserBody,
  ListTasksQuery,
  RetryResult,
  SettingsBody,
  SocketMessage,
  Stats,
  Task,
  TaskFile,
  TaskOptions,
  TaskStatus,
  UpdateUserBody,
  User,
} from '@contracts';

// The contracts export these schemas without a named type; derive them here.
export type TaskList = z.infer<typeof taskList>;
export type TaskDetail = z.infer<typeof taskDetail>;
export type BatchCreateResponse = z.infer<typeof batchCreateResponse>;
export type MachineStats = z.infer<typeof machineStats>;
export type Health = z.infer<typeof health>;
export type Settings = z.infer<typeof settings>;
export type SettingsPatch = z.infer<typeof settingsPatch>;

export type TaskView = 'current' | 'history' | 'all';
export type TaskStatusChange = 'pause' | 'resume' | 'stop';
export type PositionHow = 'POS_SET' | 'POS_CUR' | 'POS_END';
