/** The Pareto front of accuracy against a cost: the points no other point beats on both. */

export interface TradeOff {
  /** higher is better */
  accuracy: number;
  /** lower is better */
  cost: number;
}

/**
 * Whether each point is on the front (non-dominated): no other point has accuracy ≥ and cost ≤ with one of
 * the two strictly better. Equal points do not dominate each other, so both stay on the front.
 * Sorted by cost (then accuracy, best first), a point is on the front when it beats the best accuracy of every
 * strictly cheaper point and matches the best accuracy at its own cost.
 */
export function paretoFront(points: readonly TradeOff[]): boolean[] {
  for (const p of points) if (!Number.isFinite(p.accuracy) || !Number.isFinite(p.cost)) throw new Error(`paretoFront: non-finite point ${JSON.stringify(p)}`);
  const order = points.map((_, i) => i).sort((a, b) => points[a].cost - points[b].cost || points[b].accuracy - points[a].accuracy);
  const front = points.map(() => false);
  let bestCheaper = -Infinity; // best accuracy among strictly cheaper points
  for (let s = 0; s < order.length; ) {
    let e = s;
    while (e < order.length && points[order[e]].cost === points[order[s]].cost) e++;
    const bestHere = points[order[s]].accuracy; // sorted best first within a cost
    for (let k = s; k < e; k++) {
      const acc = points[order[k]].accuracy;
      front[order[k]] = acc > bestCheaper && acc === bestHere;
    }
    bestCheaper = Math.max(bestCheaper, bestHere);
    s = e;
  }
  return front;
}
