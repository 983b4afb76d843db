"""The benchmarks: ``make bench`` (``python -m tools.bench``, :mod:`.run`) and
``make bench-notifier`` (``python -m tools.bench.notifier``).

* :mod:`.run` drives the mixed bench; :mod:`.k6` runs the k6 script ``webhook.js``
  (also used by ``make chaos``);
* :mod:`.world` builds the communities, members and threads the load runs against;
* :mod:`.counters` counts the work (gRPC calls, SQL, Redis commands, Bot API calls, CPU);
* :mod:`.report` prints it; :mod:`.trace` is the span sink for ``TRACE=1``;
* :mod:`.reference` is the stock-aiogram yardstick.
"""
