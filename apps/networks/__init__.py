"""The networks a tenant publishes to, one package each, behind one interface (``base``), one
set of neutral errors (``errors``) and one registry (``registry``). Nothing here is imported on
``import apps.networks``: the asset pipeline reads ``base`` without loading every network."""
