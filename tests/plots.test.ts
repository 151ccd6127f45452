/**
 * Plot geometry against hand-computed pixels (the margins and widths are given, so every coordinate
 * follows by arithmetic), and the SVG strings' contract: explicit size, viewBox, an escaped <title>.
 */
import { describe, expect, it } from 'vitest';
import {
  CHAR_WIDTH,
  classDeltaLayout,
  classDeltaPlot,
  escapeXml,
  labelMargin,
  oursVsPaperLayout,
  oursVsPaperPlot,
  reliabilityDiagram,
  reliabilityLayout,
} from '../src/report/plots.js';
import type { CalibrationBin } from '../src/report/stats.js';

const margin = { top: 20, right: 40, bottom: 20, left: 100 };

describe('ours vs the paper', () => {
  const points = [
    { label: 'cifar10', ours: 50, paper: 80, verified: true, flagged: true },
    { label: 'food101', ours: 120, paper: null, verified: null, flagged: false },
  ];

  it('bars from 0 on a 0–100 axis over [left, width − right]; the paper mark at its value; values clamped', () => {
    const L = oursVsPaperLayout(points, { width: 640, rowHeight: 30, margin });
    expect(L.height).toBe(20 + 20 + 2 * 30);
    expect(L.x(0)).toBe(100);
    expect(L.x(100)).toBe(600);
    expect(L.rows[0].barWidth).toBe(250); // 50 % of 500 px
    expect(L.rows[0].paperX).toBe(100 + 0.8 * 500);
    expect(L.rows[1].barWidth).toBe(500); // 120 % is drawn as 100 %
    expect(L.rows[1].paperX).toBeNull();
    // bands stay inside the plot, in order
    expect(L.rows[0].y).toBeGreaterThanOrEqual(20);
    expect(L.rows[1].y).toBeGreaterThan(L.rows[0].y + L.rows[0].band);
    expect(L.rows[1].y + L.rows[1].band).toBeLessThanOrEqual(L.height - 20);
  });

  it('renders bars, a solid paper mark for a verified cell and a dashed one for an unverified cell', () => {
    const svg = oursVsPaperPlot([...points, { label: 'birdsnap', ours: 38, paper: 37.8, verified: false, flagged: false }], { title: 'A & B <test>' });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="640" height="\d+" viewBox="0 0 640 \d+" role="img"/);
    expect(svg.split('\n')[1]).toBe('<title>A &amp; B &lt;test&gt;</title>');
    expect(svg.match(/stroke-width="2\.5"( stroke-dasharray="3 2")?\/>/g)).toEqual(['stroke-width="2.5"/>', 'stroke-width="2.5" stroke-dasharray="3 2"/>', 'stroke-width="2.5"/>']); // 2 marks + the legend's
    expect(svg).toContain('fill="#c8553d"'); // the flagged bar
  });

  it('fits the left margin to the longest label, within 60–300 px, and shortens longer labels', () => {
    expect(labelMargin(['ab'])).toBe(60);
    expect(labelMargin(['x'.repeat(20)])).toBe(12 + 20 * CHAR_WIDTH);
    expect(labelMargin(['x'.repeat(200)])).toBe(300);
    const svg = oursVsPaperPlot([{ label: 'y'.repeat(200), ours: 1, paper: null, verified: null, flagged: false }]);
    expect(svg).toContain(`>${'y'.repeat(Math.floor((300 - 12) / CHAR_WIDTH) - 1)}…</text>`);
  });
});

describe('per-class deltas', () => {
  it('a symmetric axis in points around the largest change; gains right of 0, losses left', () => {
    const L = classDeltaLayout(
      [
        { label: 'cat', delta: 0.1, n: 10 },
        { label: 'dog', delta: -0.05, n: 20 },
      ],
      { width: 540, rowHeight: 20, margin },
    );
    expect(L.x.domain()).toEqual([-10, 10]);
    expect(L.x(0)).toBe(300); // the middle of [100, 500]
    expect([L.rows[0].x0, L.rows[0].x1]).toEqual([300, 500]);
    expect([L.rows[1].x0, L.rows[1].x1]).toEqual([200, 300]);
  });

  it('no change at all: an axis of ±1 point and a note instead of bars', () => {
    expect(classDeltaLayout([]).x.domain()).toEqual([-1, 1]);
    const svg = classDeltaPlot([]);
    expect(svg).toContain('no class changes accuracy');
    expect(svg).not.toContain('<rect');
  });
});

describe('reliability diagram', () => {
  const bins: CalibrationBin[] = [
    { lo: 0, hi: 0.5, count: 0, accuracy: Number.NaN, confidence: Number.NaN },
    { lo: 0.5, hi: 1, count: 4, accuracy: 0.5, confidence: 0.75 },
  ];

  it('one bar per non-empty bin, its height the accuracy, the gap up to the mean confidence; the diagonal corner to corner', () => {
    const L = reliabilityLayout(bins, { size: 300, margin: { top: 20, right: 20, bottom: 20, left: 20 } });
    expect(L.bars).toHaveLength(1);
    const b = L.bars[0];
    expect([b.x, b.width]).toEqual([150, 130]); // (0.5, 1] of [20, 280]
    expect(b.y0).toBe(280);
    expect(b.yAccuracy).toBe(150); // 0.5 of [280 → 20]
    expect(b.yConfidence).toBe(85);
    expect(L.diagonal).toBe('M20,280L280,20');
  });

  it('states the ECE, and says when the confidences are the top-5 approximation', () => {
    const exact = reliabilityDiagram({ ece: 0.25, bins, n: 4, approximate: false });
    expect(exact).toMatch(/width="340" height="340" viewBox="0 0 340 340"/);
    expect(exact).toContain('ECE 25.00% over 4 samples</title>');
    expect(exact).not.toContain('approx');
    expect(reliabilityDiagram({ ece: 0.25, bins, n: 4, approximate: true })).toContain('(approximation: softmax over the top-5 logits only)</title>');
  });
});

it('escapeXml escapes the five XML specials', () => {
  expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
