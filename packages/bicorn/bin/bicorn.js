#!/usr/bin/env -S node --
// The bicorn binary; the code is built into dist/ by `pnpm install` (or `pnpm build`).
// `node --` because node 20 reads an --env-file flag even after the script name.
import '../dist/bin.js';
