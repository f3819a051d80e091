"""Demo data: the generalist's handbook (``handbook``) and how it is loaded (``service.seed``; the
launcher reaches it through ``seed.py``)."""
