#!/usr/bin/env node
// The bicorn binary; the code is built into dist/ by `pnpm install` (or `pnpm build`).
import '../dist/bin.js';
