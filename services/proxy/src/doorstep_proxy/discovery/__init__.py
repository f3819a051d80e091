"""Proactive eligibility discovery (主动上门找"事"办): compile the catalogue's rules to SQL over the
resident register, keep leads (resident × item) up to date, explain every verdict."""
