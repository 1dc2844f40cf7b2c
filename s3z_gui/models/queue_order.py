"""Which queued transfer starts next, as the user arranged it: priority first (High, Normal,
Low), then the row's place in the queue (drag to reorder). The engine's batches take the
lowest rank first (``Engine.rank_transfers``); rows resumed from an earlier run are planned
in this order too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from s3z_core.transfer.plans import PlanItem, Planned
from s3z_gui.models.transfer_row import TransferRow

#: Far more rows than a queue holds: a priority always outranks any position.
PRIORITY_STEP = 1_000_000


def ranked(rows: Sequence[TransferRow]) -> list[tuple[float, TransferRow]]:
    """Each row (in the order shown) with its rank for the engine."""
    return [(row.priority * PRIORITY_STEP + position, row) for position, row in enumerate(rows)]


async def planned(items: Sequence[Planned]) -> AsyncIterator[PlanItem]:
    """Planned items as the plan a batch runs (already in the order they should start)."""
    for item in items:
        yield item


__all__ = ["PRIORITY_STEP", "planned", "ranked"]
