"""Pagers for lists too long to count on every page view.

``CappedPaginator`` counts at most ``cap`` rows (``SELECT count(*) FROM
(… LIMIT cap + 1)``), so a page of a million-row list costs what a page of a
short one does; past the cap it says "10,000+" and offers the pages up to the
cap, as issue trackers do. ``CountedPaginator`` takes a count the caller
already keeps (an exception's stored number of occurrences) instead of
counting rows again.
"""

from functools import cached_property

from django.core.paginator import Paginator
from django.utils.formats import number_format


class CappedPaginator(Paginator):
    """A Paginator whose count stops at ``cap`` (a multiple of ``per_page``
    keeps every offered page full)."""

    def __init__(self, object_list, per_page, *, cap=10_000, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self):
        rows, limit = self.object_list, self.cap + 1
        if hasattr(rows, "count_upto"):
            return rows.count_upto(limit)
        if isinstance(rows, list | tuple):
            return min(len(rows), limit)
        if not rows.query.distinct:
            rows = rows.order_by()  # a count needs no sort; a DISTINCT keeps its index order
        return rows[:limit].count()

    @property
    def capped(self):
        """Whether there are more rows than the cap."""
        return self.count > self.cap

    @cached_property
    def num_pages(self):
        if self.capped:
            return max(1, self.cap // self.per_page)
        return super().num_pages

    @property
    def count_label(self):
        """ "10,000+" past the cap, else the exact count, grouped by thousands."""
        if self.capped:
            return f"{number_format(self.cap, force_grouping=True)}+"
        return number_format(self.count, force_grouping=True)

    @property
    def pages_label(self):
        """ "400+" when there are more pages than are offered."""
        return f"{self.num_pages}+" if self.capped else str(self.num_pages)


class CountedPaginator(Paginator):
    """A Paginator over a list whose length the caller already knows."""

    def __init__(self, object_list, per_page, *, count, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known = max(0, int(count))

    @cached_property
    def count(self):
        return self._known
