// What a stage worker imports (ParallelOptions.ruleModules): the toy rule, registered with the built package.
import * as lh from '../../../dist/index.js';
import { register } from './toy-rule.mjs';

register(lh);
