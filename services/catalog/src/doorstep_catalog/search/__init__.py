"""Finding items: the ranked search route, what searches found nothing or were not followed
by an open (misses), turning a miss into an alias, and the synonym table."""
