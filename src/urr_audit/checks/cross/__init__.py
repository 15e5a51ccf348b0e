"""Rules joining two or more artifact kinds: Terraform, Kubernetes, the pipeline, Argo CD and
local clusters. Each finding names every file involved as related locations, and holds in one
pairing of environments (see `facts/pairing.py`)."""
