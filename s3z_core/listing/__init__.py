"""Object listings: the sequential paginator and the parallel lister that splits the key space.

``paginate_objects`` / ``iter_objects`` walk ListObjectsV2 page by page (one request at a
time); ``listing.parallel``'s ``paginate_parallel`` / ``iter_objects_parallel`` list ranges
of the same prefix at once and yield what the sequential walk yields (see ``parallel.py``
for how and when). The package imports only the sequential walk: ``ls`` of one folder
level never loads the parallel lister.
"""

from s3z_core.listing.pages import iter_objects, object_batches, paginate_objects

__all__ = [
    "iter_objects",
    "object_batches",
    "paginate_objects",
]
