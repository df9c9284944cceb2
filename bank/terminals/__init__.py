"""Terminals as the host knows them: enrolment, per-terminal credentials, signed-request checks, journal
checkpoints, the idempotency record of the API's mutating calls, and the host's audit trail."""
