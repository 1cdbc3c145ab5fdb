'use client';

import { Button } from '../../components/Button';
import { SelectField, TextField } from '../../components/Field';
import { t } from '../../lib/i18n';
import type { SortOrder, TaskSortKey } from './list-state';

export interface ListFiltersProps<S extends string> {
  status: S;
  statusChoices: readonly { value: S; label: string }[];
  onStatusChange: (status: S) => void;
  search: string;
  onSearchChange: (search: string) => void;
  sort: TaskSortKey;
  sortChoices: readonly { value: TaskSortKey; label: string }[];
  onSortChange: (sort: TaskSortKey) => void;
  order: SortOrder;
  onOrderToggle: () => void;
}

/** Filter by status, search, sort and order: the head of the tasks and history lists. */
export function ListFilters<S extends string>(props: ListFiltersProps<S>) {
  const { order } = props;
  return (
    <search className="filters">
      <SelectField
        label={t('filters.show')}
        value={props.status}
        options={props.statusChoices.map((c) => ({ ...c, label: t(c.label) }))}
        onChange={(e) => props.onStatusChange(e.currentTarget.value as S)}
      />
      <TextField
        label={t('filters.search')}
        type="search"
        placeholder={t('filters.searchPlaceholder')}
        value={props.search}
        fieldClassName="grow"
        onChange={(e) => props.onSearchChange(e.currentTarget.value)}
      />
      <SelectField
        label={t('filters.sortBy')}
        value={props.sort}
        options={props.sortChoices.map((c) => ({ ...c, label: t(c.label) }))}
        onChange={(e) => props.onSortChange(e.currentTarget.value as TaskSortKey)}
      />
      <div className="field">
        <span className="field-label" aria-hidden="true">
          {t('filters.order')}
        </span>
        <Button
          onClick={props.onOrderToggle}
          aria-label={order === 'asc' ? t('filters.orderAscSwitch') : t('filters.orderDescSwitch')}
        >
          {order === 'asc' ? t('filters.ascending') : t('filters.descending')}
        </Button>
      </div>
    </search>
  );
}
