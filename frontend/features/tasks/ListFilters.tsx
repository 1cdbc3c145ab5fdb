'use client';

import { Button } from '../../components/Button';
import { SelectField, TextField } from '../../components/Field';
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
        label="Show"
        value={props.status}
        options={props.statusChoices}
        onChange={(e) => props.onStatusChange(e.currentTarget.value as S)}
      />
      <TextField
        label="Search"
        type="search"
        placeholder="Name or link"
        value={props.search}
        fieldClassName="grow"
        onChange={(e) => props.onSearchChange(e.currentTarget.value)}
      />
      <SelectField
        label="Sort by"
        value={props.sort}
        options={props.sortChoices}
        onChange={(e) => props.onSortChange(e.currentTarget.value as TaskSortKey)}
      />
      <div className="field">
        <span className="field-label" aria-hidden="true">
          Order
        </span>
        <Button
          onClick={props.onOrderToggle}
          aria-label={`Order: ${order === 'asc' ? 'ascending' : 'descending'}. Switch`}
        >
          {order === 'asc' ? '↑ Ascending' : '↓ Descending'}
        </Button>
      </div>
    </search>
  );
}
