"""Opening hours: weekly rules with effective dates, dated exceptions, open now / next opening."""
