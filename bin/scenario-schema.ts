/**
 * `npm run scenario-schema`: writes examples/scenarios/scenario.schema.json from the scenario
 * parser's own definition (a test checks the committed file is current).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioJsonSchema } from '../sim/scenario/run';

const file = join(__dirname, '..', 'examples', 'scenarios', 'scenario.schema.json');
writeFileSync(file, `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file}`);
