/**
 * The metrics the paper reports per dataset (Table 11 and its appendix), and retrieval's headline,
 * `mean_recall@1` in CLIP_benchmark's spelling (src/eval/retrieval-metrics.ts).
 */
export const METRIC_IDS = ['top1', 'top5', 'mean-per-class-recall', 'map-11pt', 'roc-auc', 'mean-top1-top5', 'mean_recall@1'] as const;
export type MetricId = (typeof METRIC_IDS)[number];
