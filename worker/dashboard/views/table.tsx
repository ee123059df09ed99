import type { Child } from "hono/jsx";

/** One column of a {@link Table}: its header and how a row fills its cell. */
export interface Column<T> {
  header: string;
  cell: (row: T) => Child;
  /** Class of the column's cells. */
  class?: string;
}

/**
 * The dashboard's one table: a header row from `columns`, a row per item, and `empty`
 * (one spanning cell) when there are none. `rowAttributes` adds data attributes (ids for
 * links and tests). Cells are JSX, so any text in them is escaped.
 */
export function Table<T>(props: {
  columns: Column<T>[];
  rows: readonly T[];
  empty: string;
  rowAttributes?: (row: T) => Record<string, string>;
  class?: string;
}) {
  const { columns, rows } = props;
  return (
    <table class={props.class}>
      <thead>
        <tr>
          {columns.map((col) => (
            <th>{col.header}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colspan={columns.length} class="muted">
              {props.empty}
            </td>
          </tr>
        )}
        {rows.map((row) => (
          <tr {...(props.rowAttributes?.(row) ?? {})}>
            {columns.map((col) => (
              <td class={col.class}>{col.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
