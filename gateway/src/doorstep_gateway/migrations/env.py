from doorstep_gateway.models import metadata
from doorstep_shared.migrations import run_env

run_env(metadata)
