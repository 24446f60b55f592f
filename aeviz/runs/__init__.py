"""A run on disk: its folder's files (`format`), the store that saves, lists and loads runs (`store`), the
checks a saved run passes before anything is built from it (`checks`), portable .zip archives (`archive`),
and runs whose training was interrupted (`interrupted`).

Owns: everything under the runs folder. Uses: `aeviz.training` and the packages below it.
"""
