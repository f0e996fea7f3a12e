import { svg, type TemplateResult } from 'lit-html';

const WIDTH = 160;
const HEIGHT = 40;

/**
 * A sparkline of the last readings as inline SVG (no chart library: a polyline over at most
 * 60 points; docs/decisions/0055). Its words are the label: a screen reader hears the figure,
 * not the drawing.
 */
export function sparkline(values: number[], label: string, testid: string): TemplateResult {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? WIDTH / (values.length - 1) : 0;
  const points = values
    .map((value, index) => {
      const x = values.length > 1 ? index * step : WIDTH;
      const y = HEIGHT - 2 - (value / max) * (HEIGHT - 4);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
  return svg`<svg
    class="spark"
    viewBox="0 0 ${WIDTH} ${HEIGHT}"
    preserveAspectRatio="none"
    role="img"
    aria-label=${label}
    data-testid=${testid}
    data-points=${values.length}
  >
    <polyline points=${points} fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke" />
  </svg>`;
}
