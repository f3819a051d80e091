"""Demo data: the county's 78 stations, 朝阳社区's featured services, and upcoming sessions
topped up on every seed (``service.seed``; the launcher reaches it through ``seed.py``)."""
