"""The four-clears ledger: compounds, households, residents (personal data encrypted), their benefits and reveals."""
