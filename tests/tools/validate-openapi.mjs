// SPDX-License-Identifier: Apache-2.0
// validate-openapi.mjs - check an OpenAPI document against the official schema of its version
// with @seriousme/openapi-schema-validator (pinned in package.json, installed by
// scripts/test.sh into tests/tools/node_modules).
//
//   node tests/tools/validate-openapi.mjs openapi.json
//
// Exit status: 0 valid, 1 invalid (the errors are printed), 2 unusable (no such file, not
// JSON, validator missing).
import { readFile } from "node:fs/promises";

const path = process.argv[2];
if (!path || process.argv.length > 3) {
	console.error("usage: node validate-openapi.mjs FILE.json");
	process.exit(2);
}

let Validator;
try {
	({ Validator } = await import("@seriousme/openapi-schema-validator"));
} catch (err) {
	console.error(
		`validate-openapi: cannot load @seriousme/openapi-schema-validator (${err.message});` +
			" run `npm ci --prefix tests/tools`",
	);
	process.exit(2);
}

let spec;
try {
	spec = JSON.parse(await readFile(path, "utf8"));
} catch (err) {
	console.error(`validate-openapi: ${path}: ${err.message}`);
	process.exit(2);
}

const validator = new Validator();
const result = await validator.validate(spec);
if (!result.valid) {
	console.error(`validate-openapi: ${path} is not a valid OpenAPI ${spec.openapi} document:`);
	console.error(JSON.stringify(result.errors, null, 2));
	process.exit(1);
}
console.log(`validate-openapi: ${path} is valid OpenAPI ${validator.version}`);
