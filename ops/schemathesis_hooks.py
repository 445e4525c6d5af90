"""Schemathesis hooks for ops/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

A client sends a fresh Idempotency-Key with every new request and the same key only when it
retries the same request (docs/api.md); the same key with a different body is refused with 422
`idempotency_key_reused` by design. Generated keys repeat ("0" comes up often), so a valid key
is tied here to the body it comes with: retries of the same request still share it.
"""

import hashlib
import json
import re

import schemathesis

KEY = "Idempotency-Key"
VALID = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def map_case(context, case):
    key = (case.headers or {}).get(KEY)
    if isinstance(key, str) and VALID.match(key):
        # The server compares the body's bytes, so the digest follows the order they are sent in.
        body = json.dumps(case.body, default=str).encode()
        digest = hashlib.sha256(body + case.path.encode()).hexdigest()[:16]
        case.headers[KEY] = f"{key[:238]}.{digest}"
    return case
