"""Thread pages: a page of comments as one viewer sees it, as ListComments
answers it and as a write's ``page_after`` asks for it (the page its writer
sees next, so the gateway re-renders without a second call)."""

from __future__ import annotations

from services.social.repository import SocialRepository
from services.social.rows import CommentRow, Sort
from veil.contracts.lengths import COMMENTS_PAGE_SIZE
from veil.core.proto import page_bounds, timestamp
from veil.v1 import social_pb2 as pb

_SORTS = {
    pb.COMMENT_SORT_OLDEST: Sort.OLDEST,
    pb.COMMENT_SORT_NEWEST: Sort.NEWEST,
    pb.COMMENT_SORT_TOP: Sort.TOP,
}


def comment(row: CommentRow, viewer_member_id: int = 0) -> pb.Comment:
    """``row`` as ``viewer_member_id`` sees it (``mine`` marks their own)."""
    return pb.Comment(
        id=row.id,
        confession_id=row.confession_id,
        parent_id=row.parent_id or 0,
        pseudonym=row.pseudonym,
        text=row.text,
        likes=row.likes,
        dislikes=row.dislikes,
        created_at=timestamp(row.created_at),
        mine=bool(viewer_member_id) and row.member_id == viewer_member_id,
        my_reaction=row.my_reaction,
        parent_pseudonym=row.parent_pseudonym or "",
        parent_text=row.parent_text or "",
        by_author=row.by_author,
    )


async def page(
    repository: SocialRepository,
    community_id: int,
    confession_id: int,
    viewer_member_id: int,
    sort: pb.CommentSort.ValueType,
    limit: int,
    offset: int,
    *,
    consistent: bool,
) -> pb.ListCommentsResponse:
    """One page of a thread for one viewer, in the asked order (``consistent``:
    read on the primary)."""
    found = await repository.thread_page(
        community_id=community_id,
        confession_id=confession_id,
        viewer_member_id=viewer_member_id,
        sort=_SORTS.get(sort, Sort.OLDEST),
        limit=limit,
        offset=offset,
        consistent=consistent,
    )
    return pb.ListCommentsResponse(
        comments=[comment(r, viewer_member_id) for r in found.comments], total=found.total
    )


async def page_after(
    repository: SocialRepository,
    after: pb.PageAfter,
    thread: pb.ThreadContext,
    viewer_member_id: int,
    count: int = 0,
) -> pb.ListCommentsResponse | None:
    """The page a write's ``page_after`` asks for, read on the primary (the
    writer sees their own write at once); None when it asks for none.
    ``count``: the thread's visible comments, where ``last`` is asked for."""
    if not after.limit:
        return None
    limit, offset = page_bounds(after.limit, after.offset, default=COMMENTS_PAGE_SIZE)
    if after.last:
        offset = max(0, (count - 1) // limit) * limit
    return await page(
        repository,
        thread.community_id,
        thread.confession_id,
        viewer_member_id,
        after.sort,
        limit,
        offset,
        consistent=True,
    )
