// npm run schema: writes the JSON schema of model config.json files that the extension contributes
// to the editor (resources/model-config.schema.json), from the agent's own schema.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelConfigJsonSchema } from '../agent/src/repository/modelConfig.js';

const SCHEMA_FILE = join(__dirname, '..', 'resources', 'model-config.schema.json');

writeFileSync(SCHEMA_FILE, `${JSON.stringify(modelConfigJsonSchema(), null, 2)}\n`);
console.log(`wrote ${SCHEMA_FILE}`);
