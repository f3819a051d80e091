"""Every table of the stations database, for whoever needs the whole schema (migrations, test
fixtures): importing the sub-domains' models registers their tables on ``db.metadata``."""

from __future__ import annotations

from .bookings import models as bookings
from .db import metadata
from .events import models as events
from .hours import models as hours
from .notifications import models as notifications
from .placement import models as placement
from .stations import models as stations
from .tickets import models as tickets

# The modules that declare tables: importing them is what registers their tables.
TABLE_MODULES = (stations, hours, bookings, tickets, notifications, events, placement)

__all__ = ["TABLE_MODULES", "metadata"]
