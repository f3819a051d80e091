"""Moves a process the test suite starts (an app server, the launcher) to the suite's instant.

``pytest --at=…`` puts this folder on ``PYTHONPATH`` and the offset between the real clock and the
chosen instant in ``DOORSTEP_TEST_TIME_OFFSET``; Python imports this module at start-up, before the
app, so every child travels by the same offset as the test process and the clocks agree.
"""

from __future__ import annotations

import os

_offset = os.environ.get("DOORSTEP_TEST_TIME_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
