'use client';

import { type ComponentPropsWithRef, type ReactNode, useId } from 'react';
import { UNIT_CHOICES, type UnitDraft, type UnitKind } from '../lib/format';
import { t } from '../lib/i18n';

interface FieldShellProps {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  id: string;
  children: ReactNode;
  className?: string;
}

function FieldShell({ label, hint, error, id, children, className }: FieldShellProps) {
  return (
    <div className={`field${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <span id={`${id}-hint`} className="hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={`${id}-error`} className="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

export interface TextFieldProps extends ComponentPropsWithRef<'input'> {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  fieldClassName?: string;
}

/** A labelled input (a real <label for>). */
export function TextField({ label, hint, error, id, fieldClassName, ...rest }: TextFieldProps) {
  const auto = useId();
  const inputId = id ?? auto;
  return (
    <FieldShell label={label} hint={hint} error={error} id={inputId} className={fieldClassName}>
      <input
        id={inputId}
        className="input"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(inputId, hint, error)}
        {...rest}
      />
    </FieldShell>
  );
}

export interface TextAreaFieldProps extends ComponentPropsWithRef<'textarea'> {
  label: string;
  hint?: ReactNode;
  error?: string | null;
}

export function TextAreaField({ label, hint, error, id, ...rest }: TextAreaFieldProps) {
  const auto = useId();
  const inputId = id ?? auto;
  return (
    <FieldShell label={label} hint={hint} error={error} id={inputId}>
      <textarea
        id={inputId}
        className="input textarea"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(inputId, hint, error)}
        {...rest}
      />
    </FieldShell>
  );
}

export interface SelectFieldProps extends ComponentPropsWithRef<'select'> {
  label: string;
  hint?: ReactNode;
  fieldClassName?: string;
  options: readonly { value: string; label: string }[];
}

export function SelectField({ label, hint, id, options, fieldClassName, ...rest }: SelectFieldProps) {
  const auto = useId();
  const inputId = id ?? auto;
  return (
    <FieldShell label={label} hint={hint} id={inputId} className={fieldClassName}>
      <select
        id={inputId}
        className="input select"
        aria-describedby={describedBy(inputId, hint, null)}
        {...rest}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

export interface CheckboxProps extends Omit<ComponentPropsWithRef<'input'>, 'type'> {
  label: ReactNode;
}

export function Checkbox({ label, id, className, ...rest }: CheckboxProps) {
  const auto = useId();
  const inputId = id ?? auto;
  return (
    <div className={`check${className ? ` ${className}` : ''}`}>
      <input id={inputId} type="checkbox" {...rest} />
      <label htmlFor={inputId}>{label}</label>
    </div>
  );
}

export interface UnitFieldProps {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  kind: UnitKind;
  value: UnitDraft;
  onChange: (next: UnitDraft) => void;
  /** Offers an "Unlimited" box that stands for 0. */
  unlimitable?: boolean;
  /** Shown but not editable (e.g. a setting an environment variable pins). */
  readOnly?: boolean;
  name?: string;
  placeholder?: string;
  id?: string;
}

/** A number with a unit picker (KiB … TiB, KiB/s, MiB/s); the form turns it into bytes with `unitDraftToBytes`. */
export function UnitField({
  label,
  hint,
  error,
  kind,
  value,
  onChange,
  unlimitable,
  readOnly,
  name,
  placeholder,
  id,
}: UnitFieldProps) {
  const auto = useId();
  const inputId = id ?? auto;
  const off = value.unlimited || readOnly;
  return (
    <FieldShell label={label} hint={hint} error={error} id={inputId}>
      <div className="unit-input">
        <input
          id={inputId}
          name={name}
          className="input"
          type="number"
          min={0}
          step="any"
          inputMode="decimal"
          placeholder={placeholder}
          readOnly={readOnly}
          disabled={value.unlimited}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(inputId, hint, error)}
          value={value.unlimited ? '' : value.amount}
          onChange={(e) => onChange({ ...value, amount: e.currentTarget.value })}
        />
        <select
          className="input select"
          aria-label={t('units.unitOf', { field: label })}
          name={name ? `${name}-unit` : undefined}
          disabled={off}
          value={value.unit}
          onChange={(e) => onChange({ ...value, unit: e.currentTarget.value })}
        >
          {UNIT_CHOICES[kind].map((u) => (
            <option key={u.symbol} value={u.symbol}>
              {u.symbol}
            </option>
          ))}
        </select>
      </div>
      {unlimitable ? (
        <Checkbox
          label={t('format.unlimited')}
          aria-label={t('units.unlimitedOf', { field: label })}
          checked={value.unlimited}
          disabled={readOnly}
          onChange={(e) => onChange({ ...value, unlimited: e.currentTarget.checked })}
        />
      ) : null}
    </FieldShell>
  );
}
