"""Consumer-loan pre-qualification: a transparent scorecard, hard rules, a supervisor review queue."""
