from doorstep_shared.migrations import run_env
from doorstep_stations.models import metadata

run_env(metadata)
