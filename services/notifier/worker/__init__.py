"""The notifier worker: claims queued Bot API calls and sends them within Telegram's limits.

``python -m services.notifier.worker`` runs one (:mod:`.process`); :mod:`.sender`
holds a message's life in a worker, :mod:`.flood_limiter` the flood limits shared
through Redis Cluster, :mod:`.telegram` the Bot API caller, :mod:`.directory`
what the worker asks the confessions service, :mod:`.metrics` what it exports.
"""
