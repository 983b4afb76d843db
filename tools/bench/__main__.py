"""``python -m tools.bench``: the mixed bench (:mod:`tools.bench.run`)."""

from tools.bench.run import main

main()
