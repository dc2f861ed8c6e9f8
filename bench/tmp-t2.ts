import { scenario } from './ring/throughput.js';
const rows = await scenario.run({ mode: 'quick', progress: () => {} });
for (const r of rows) console.log(r.competitor, '|', r.setup, '|', Math.round(r.figures.msgs_per_s ?? 0), Math.round(r.figures.mb_per_s ?? 0), JSON.stringify(r.ratios));
