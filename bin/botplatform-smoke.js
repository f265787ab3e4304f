#!/usr/bin/env node
// The `botplatform-smoke` command: loads the TypeScript CLI through tsx's CommonJS hook (the package
// ships sources, not a build) and lets it run. See `botplatform-smoke --help`.
"use strict";
require("tsx/cjs");
require("../healthchecks/cli.ts");
