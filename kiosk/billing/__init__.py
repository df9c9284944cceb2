"""Bill payment: simulated billers (utilities, phone top-up), payments through the ledger, schedules."""
