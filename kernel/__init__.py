"""The shared kernel: what every layer may import and that imports nothing of ours.

`principal` (who is calling), `errors` (the expected failures use cases raise) and `vocabulary` (the
enumerations stored in the database and reasoned about by the pure cores) live here, so that the ORM
models, the pure cores, the use cases and the GraphQL layer share one definition of each without any
of them importing a layer above it. Standard library only.
"""
