"""The values layer's internals; its public face is :mod:`flywheel.fields.types`.

* :mod:`.codec` — AttributeValues without declarations: DynamoDB type letters, ``Binary``,
  exact numbers under DynamoDB's limits, JSON text, the natural mapping of undeclared values.
* :mod:`.base` — :class:`TypeDefinition`, the base class of every field type.
* :mod:`.scalars` — the built-in scalar types (str, bytes, numbers, bool, datetime, date).
"""
