'use client';

import { type ComponentPropsWithRef, type ReactNode, useId } from 'react';

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
