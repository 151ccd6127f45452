#!/usr/bin/env node
// The `clip-bench` executable.
import { main } from './cli.js';

await main();
