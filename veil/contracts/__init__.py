"""Contracts that cross processes, each written once.

- :mod:`veil.contracts.callbacks`: the callback data of every inline button
  (the services build card buttons, the gateway parses every press);
- :mod:`veil.contracts.lengths`: Telegram's limits and Veil's own lengths;
- :mod:`veil.contracts.texts`: texts more than one process writes.

Nothing here imports aiogram, gRPC or a database driver: every process can
import it at no cost.
"""
