/** The metrics the paper reports per dataset (Table 11 and its appendix). */
export const METRIC_IDS = ['top1', 'top5', 'mean-per-class-recall', 'map-11pt', 'roc-auc', 'mean-top1-top5'] as const;
export type MetricId = (typeof METRIC_IDS)[number];
