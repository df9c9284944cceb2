"""The bank: customers/KYC, accounts, cards, the double-entry ledger, transfers, enquiries, opening."""
