/**
 * @module console/routes/pages/chart
 * Small bar charts as inline SVG, drawn on the server for the Overview (no script, no style
 * attribute: the strict CSP allows them; colours come from console.css classes). Each bucket's
 * bar stacks sign-ins, tokens issued and failures. A chart always carries its numbers as text:
 * the large one points at a table of them (`aria-describedby`), the small one says them in its
 * `aria-label`.
 */
import type { EventCategory } from '../../../store/ports.ts'
import { escapeHtml } from '../../../web/views.ts'

/** The series of every chart, bottom to top, with their labels and CSS classes. */
export const SERIES: readonly { key: EventCategory; label: string; css: string }[] = [
  { key: 'sign_in', label: 'Sign-ins', css: 'chart-sign-in' },
  { key: 'token', label: 'Tokens issued', css: 'chart-token' },
  { key: 'failure', label: 'Failures', css: 'chart-failure' },
]

/** One bar: its label (an hour or a day) and a count per series. */
export interface Bucket {
  label: string
  counts: Record<EventCategory, number>
}

/** An empty count per series. */
export const noCounts = (): Record<EventCategory, number> => ({ sign_in: 0, token: 0, failure: 0 })

const SLOT = 12
const BAR = 9

/** The stacked bars of `buckets`, scaled to the tallest, `height` units high. */
function bars(buckets: readonly Bucket[], height: number): string {
  const max = Math.max(1, ...buckets.map((b) => SERIES.reduce((n, s) => n + b.counts[s.key], 0)))
  return buckets
    .map((b, i) => {
      let y = height
      return SERIES.map((s) => {
        const n = b.counts[s.key]
        if (n === 0) return ''
        // At least one unit, so a single event still shows beside a busy hour.
        const h = Math.max(1, (n / max) * height)
        y -= h
        return `<rect class="${s.css}" x="${i * SLOT + 1}" y="${y.toFixed(2)}" width="${BAR}" height="${h.toFixed(2)}"><title>${escapeHtml(`${b.label}: ${n} ${s.label.toLowerCase()}`)}</title></rect>`
      }).join('')
    })
    .join('')
}

/**
 * A chart with its legend and, under a disclosure, the table of its numbers (which the chart
 * names as its description).
 * @param id a unique id on the page (its title and table ids derive from it)
 * @param caption what the chart shows ("Every integration, per hour")
 * @param bucketHeader the table's first column header ("Hour (UTC)")
 */
export function chartWithTable(
  id: string,
  caption: string,
  bucketHeader: string,
  buckets: readonly Bucket[],
): string {
  const height = 60
  const width = buckets.length * SLOT
  const rows = buckets
    .map(
      (b) =>
        `<tr><th scope="row">${escapeHtml(b.label)}</th>${SERIES.map((s) => `<td>${b.counts[s.key]}</td>`).join('')}</tr>`,
    )
    .join('')
  const legend = SERIES.map(
    (s) =>
      `<li><span class="swatch ${s.css}" aria-hidden="true"></span>${escapeHtml(s.label)}</li>`,
  ).join('')
  return `<figure class="chart">
<svg class="chart-large" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title" aria-describedby="${id}-table" focusable="false"><title id="${id}-title">${escapeHtml(caption)}</title><line class="chart-axis" x1="0" y1="${height}" x2="${width}" y2="${height}"/>${bars(buckets, height)}</svg>
<figcaption>${escapeHtml(caption)}<ul class="legend">${legend}</ul></figcaption>
</figure>
<details><summary>The numbers of this chart</summary>
<div class="table-wrap" tabindex="0" role="region" aria-label="${escapeHtml(`${caption}: the numbers`)}"><table id="${id}-table"><thead><tr><th scope="col">${escapeHtml(bucketHeader)}</th>${SERIES.map((s) => `<th scope="col">${escapeHtml(s.label)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table></div>
</details>`
}

/**
 * A small chart for one row of a table, its numbers in its `aria-label`.
 * @param name what it is about ("Integration chat")
 * @param unit "hour" or "day": how the label counts the buckets
 */
export function sparkChart(name: string, unit: string, buckets: readonly Bucket[]): string {
  const height = 24
  const label = `${name}, per ${unit}, oldest first. ${SERIES.map(
    (s) => `${s.label}: ${buckets.map((b) => b.counts[s.key]).join(' ')}`,
  ).join('. ')}.`
  return `<svg class="chart-small" viewBox="0 0 ${buckets.length * SLOT} ${height}" role="img" aria-label="${escapeHtml(label)}" focusable="false">${bars(buckets, height)}</svg>`
}
