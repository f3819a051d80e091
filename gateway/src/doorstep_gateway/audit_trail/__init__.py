"""The gateway's audit log for the people it concerns: the auditor's signed JSON Lines export
for archiving, and a person's login history (their own, or any for the auditor)."""
