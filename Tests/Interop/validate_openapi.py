"""Validates Quill's OpenAPI document, then real responses against the schemas it declares.

Usage: python validate_openapi.py SPEC.json RESPONSES.json
RESPONSES.json is a list of {"method", "path", "status", "body"}, where path is the document's path template.
Prints one line per problem and exits 1 when there is any.
"""
import json
import sys

import jsonschema
from openapi_spec_validator import validate

spec = json.load(open(sys.argv[1]))
responses = json.load(open(sys.argv[2]))
validate(spec)

problems = []
for item in responses:
    operation = spec["paths"].get(item["path"], {}).get(item["method"].lower())
    if operation is None:
        problems.append(f"{item['method']} {item['path']}: not in the document")
        continue
    response = operation["responses"].get(str(item["status"]))
    if response is None:
        problems.append(f"{item['method']} {item['path']}: status {item['status']} not documented")
        continue
    content = response.get("content", {}).get("application/json")
    if content is None:
        continue
    schema = dict(content["schema"])
    schema["components"] = spec["components"]
    try:
        jsonschema.Draft202012Validator(schema).validate(item["body"])
    except jsonschema.ValidationError as error:
        problems.append(f"{item['method']} {item['path']} {item['status']}: {error.message} at {list(error.absolute_path)}")

for problem in problems:
    print(problem)
print(f"{len(responses)} responses checked, {len(problems)} problems")
sys.exit(1 if problems else 0)
