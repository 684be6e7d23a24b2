// @ts-check
// A data table that turns into one card per row on a phone (each cell shows its column name).
import { h } from './dom.js';

/**
 * @template T
 * @param {{ label: string, cell: (row: T) => any, className?: string }[]} columns
 * @param {T[]} rows
 * @param {(row: T) => Record<string, any>} [rowAttrs]
 */
export function table(columns, rows, rowAttrs) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data' },
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label)))),
      h(
        'tbody',
        null,
        rows.map((row) =>
          h('tr', rowAttrs ? rowAttrs(row) : null, columns.map((c) => h('td', { 'data-label': c.label, class: c.className }, c.cell(row)))),
        ),
      ),
    ),
  );
}
