// Loads the demo's held-out digits into Redis, for a model whose config reads features from Redis:
//   npm run features:redis -- [--url redis://127.0.0.1:6379] [--prefix inferscope:digits:] [--ttl SECONDS]
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadIntoRedis, readDemoFeatures } from './lib/demoFeatures.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'redis://127.0.0.1:6379' },
    prefix: { type: 'string', default: 'inferscope:digits:' },
    ttl: { type: 'string' },
  },
});
const features = readDemoFeatures(join(resolve(__dirname, '..'), 'models', 'digits', 'features'));
loadIntoRedis(values.url!, values.prefix!, features, values.ttl ? Number(values.ttl) : undefined).then(
  (n) => console.log(`loaded ${n} entities into ${values.url} as ${values.prefix}<id> (float32 little-endian)`),
  (err: Error) => {
    console.error(`could not load features into ${values.url}: ${err.message}`);
    process.exit(1);
  },
);
