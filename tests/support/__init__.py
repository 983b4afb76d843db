"""The suite's harness, imported by the test modules of every area.

Fixtures stay in the conftest.py files; what a test calls lives here, one module per
concern, so that no test area imports another's helpers:

* world: the running system as members and admins see it (World, Member, buttons);
  services: gRPC stubs tests call directly; webhook: posting updates as Telegram does;
* threads, moderation, miniapp: driving comment threads, admin cards and the Mini App;
* stale_press, forced_error: shared scenarios (an outdated press, a database error);
* outbox: the notifier's queue (rows, waits, calls); metrics: scraping /metrics;
  otlp: the OTLP receiver spans are exported to;
* chart: rendering the Helm chart; emulator, sandbox_events: the Bot API emulator.
"""
