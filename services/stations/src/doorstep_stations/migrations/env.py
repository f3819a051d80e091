from doorstep_shared.db.migrations import run_env
from doorstep_stations.models import metadata

run_env(metadata)
