"""flywheel: an object mapper for Amazon DynamoDB."""
from .connection import DynamoDBConnection
from .engine import Engine
from .exceptions import (
    BatchGetError,
    BatchWriteError,
    CheckFailed,
    ConditionalCheckFailedException,
    ConnectionFailure,
    DynamoDBError,
    ThroughputException,
)
from .fields import Composite, Field
from .fields.indexes import GlobalIndex
from .fields.types import (
    BINARY,
    BINARY_SET,
    BOOL,
    LIST,
    MAP,
    NULL,
    NUMBER,
    NUMBER_SET,
    STRING,
    STRING_SET,
    Binary,
    TypeDefinition,
    set_,
)
from .model_meta import ValidationError
from .models import Model

__version__ = "0.3.0.dev0"

__all__ = [
    "Model",
    "Field",
    "Composite",
    "GlobalIndex",
    "Engine",
    "TypeDefinition",
    "set_",
    "STRING",
    "NUMBER",
    "BINARY",
    "STRING_SET",
    "NUMBER_SET",
    "BINARY_SET",
    "MAP",
    "LIST",
    "BOOL",
    "NULL",
    "DynamoDBConnection",
    "Binary",
    "DynamoDBError",
    "CheckFailed",
    "ConditionalCheckFailedException",
    "ThroughputException",
    "ConnectionFailure",
    "BatchWriteError",
    "BatchGetError",
    "ValidationError",
]
