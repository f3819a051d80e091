from doorstep_proxy.models import metadata
from doorstep_shared.db.migrations import run_env

run_env(metadata)
