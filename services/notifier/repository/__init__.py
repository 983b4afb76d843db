"""All SQL of the notifier service (the gRPC service and the workers), one module per concern.

``NotifierRepository`` joins the parts; the row types and statuses live in ``rows``.
"""

from __future__ import annotations

from services.notifier.repository.claims import Claims
from services.notifier.repository.enqueue import Enqueue
from services.notifier.repository.limits import Limits
from services.notifier.repository.outcomes import Outcomes
from services.notifier.repository.reachability import Reachability
from services.notifier.repository.stats import Stats


class NotifierRepository(Enqueue, Claims, Outcomes, Reachability, Limits, Stats):
    """Reads and writes of the ``notifier`` schema."""


__all__ = ["NotifierRepository"]
