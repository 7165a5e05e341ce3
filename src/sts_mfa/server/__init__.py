"""A local credentials endpoint that SDKs refresh from (`exec --server`, `serve`).

Every AWS SDK and the AWS CLI can fetch credentials from a container credentials
endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN`
or `..._TOKEN_FILE`) and fetch them again before they expire, so a program that runs
for longer than a role session keeps working. The pieces, one job each:

* `keeper`: the session handed out, renewed ahead of expiry through the same session
  machinery as `assume` (cache, ledger, MFA session), one renewal at a time, and never
  making a request wait longer than an SDK would;
* `endpoint`: the HTTP server on a loopback address: one path, GET only, the token
  compared in constant time, every refusal logged (never the token);
* `child`: running `exec --server`'s command to its end, with signals passed on and its
  exit status passed back;
* `tokenfile`: the token in a private file for `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`,
  removed when the server ends.

Nothing here imports click or prints: messages go to the `log` callable the CLI gives.
"""
