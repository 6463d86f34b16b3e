"""`saddlepoint sweep SPEC`: a grid of presets x overrides x seeds, trained by worker processes,
resumable, each run scored by the metrics the spec names (docs/sweep.md).

spec.py      the TOML spec file, read and checked key by key
cells.py     the grid: one Cell per (preset, overrides, seed), its stable key and train command
folder.py    a cell's folder on disk: its run folder, worker log, attempts and result
worker.py    one cell in its own process: `saddlepoint train`, then the metrics
scheduler.py N workers at a time, resumable, stopped cleanly by Ctrl-C
ensembles.py --ensemble: which cells train together as one ensemble process, which alone and why
members.py   an ensemble's members exported as run folders of their own, scored as separate runs
results.py   the results file: one JSON line per finished cell
metrics.py   the metric registry: name -> (run_dir, config) -> {value name: number}
table.py     mean +/- sd over seeds as a markdown table, and the docs block that holds it
machine.py   what a row records about the machine (CPU model, versions)

Modules are imported where they are used (the command imports them in its handler), so this
package imports nothing itself.
"""
