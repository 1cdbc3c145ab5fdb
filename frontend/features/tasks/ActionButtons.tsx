'use client';

import { Button } from '../../components/Button';
import type { Task } from '../../lib/types';
import { outageReason, useOutage } from '../shell/live-sync';
import {
  type ActionSurface,
  actionLabel,
  actionsFor,
  actionVariant,
  type TaskActionDef,
  type TaskActionId,
} from './actions';

export interface ActionButtonsProps {
  task: Task;
  surface: ActionSurface;
  /** The action of this task whose request is running: it spins, the others wait. */
  busyAction: TaskActionId | null;
  onAction: (action: TaskActionId, task: Task) => void;
}

function ActionButton({
  def,
  task,
  surface,
  busyAction,
  onAction,
}: { def: TaskActionDef } & ActionButtonsProps) {
  const Icon = def.icon;
  const label = actionLabel(def, task, surface);
  const variant = actionVariant(def, surface);
  const small = surface !== 'detail';
  const outage = useOutage();
  // A finished file comes from the server alone: only a lost server stops its download.
  const unavailable = def.href ? outage === 'server' : outage !== null;
  if (def.href && !unavailable) {
    // The browser opens the file itself (the session cookie suffices).
    return (
      <a className={`btn btn-${variant}${small ? ' btn-sm' : ''}`} href={def.href(task)} download>
        {Icon ? <Icon /> : null}
        <span className="btn-label">{label}</span>
      </a>
    );
  }
  return (
    <Button
      size={small ? 'sm' : 'md'}
      variant={variant}
      icon={Icon ? <Icon /> : undefined}
      busy={busyAction === def.id}
      disabled={unavailable || (busyAction !== null && busyAction !== def.id)}
      title={unavailable ? outageReason(outage) : undefined}
      onClick={() => onAction(def.id, task)}
    >
      {label}
    </Button>
  );
}

/** A task's buttons on one surface, as the action registry has them. */
export function ActionButtons(props: ActionButtonsProps) {
  return (
    <>
      {actionsFor(props.surface, props.task).map((def) => (
        <ActionButton key={def.id} def={def} {...props} />
      ))}
    </>
  );
}
