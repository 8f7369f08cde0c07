// Checks responses against the schemas an OpenAPI document gives them, with the Ajv that
// the OpenAPI validator brings (its node_modules directory is the first argument):
//   node check_responses.mjs NODE_MODULES openapi.json cases.json
// cases.json: [{"name", "schema": a JSON pointer into the document, "instance"}]. Prints
// each case that does not match with Ajv's errors; exits 1 when one does not.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const [modules, documentFile, casesFile] = process.argv.slice(2);
const require = createRequire(modules + "/");
const Ajv = require("ajv").default;
// OpenAPI 3.0 schemas: `nullable` is Ajv's own keyword; formats are not checked here.
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(JSON.parse(readFileSync(documentFile)), "api");
let failed = 0;
for (const { name, schema, instance } of JSON.parse(readFileSync(casesFile))) {
  if (!ajv.validate({ $ref: "api#" + schema }, instance)) {
    console.log(name + ": " + JSON.stringify(ajv.errors));
    failed++;
  }
}
process.exit(failed ? 1 : 0);
