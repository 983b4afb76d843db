"""Start, check and stop the real local infrastructure Veil runs against in dev and tests.

* PostgreSQL 15 (:mod:`.postgres`, :mod:`.postgres_sql`): a primary plus a streaming
  hot-standby replica, each on 127.0.0.1 only.
* Redis Cluster (:mod:`.redis_cluster`): 3 masters + 3 replicas (one ``redis-server`` per port).
* Both at once (:mod:`.lifecycle`) and its CLI (``python -m tools.devstack.infra``).

Everything lives under a caller-chosen root folder (``<repo>/.veil/dev`` by default,
:mod:`.config`) and uses non-standard ports, so the system Postgres (5432) and Redis (6379)
are never touched.

The package is deliberately stdlib-only: it must work before the virtualenv has packages.
"""
