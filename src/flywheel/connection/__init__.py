"""Wire layer: the only part of flywheel that talks to DynamoDB.

It speaks DynamoDB's JSON (AttributeValue dicts as botocore takes them) and knows nothing
about models: ``core`` holds :class:`DynamoDBConnection` (the ``call`` seam, paging, table
admin), ``errors`` the error translation and retry policy, ``batches`` batch writes and
gets, ``clients`` the construction of botocore clients.
"""
from __future__ import annotations

from .core import DynamoDBConnection, Item

__all__ = ["DynamoDBConnection", "Item"]
