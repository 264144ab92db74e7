"""Scores, read top to bottom (each module imports only the ones above it):

1. settings.py  the cycle's (and county's) scoring settings, validated
2. inputs.py    every input of one county's scores, loaded from the database into the plain
                dataclasses of domain/county_scores.py (the reference implementation)
3. aggregates.py the mass evaluation set-based: SQL aggregates over visits, ballots and
                tallies, graded by the same domain code (tested against the reference)
4. mass.py      the mass evaluation (群众评议) rows and pooled aggregates
5. entries.py   the scorecard components staff enter or import (工作实绩, 工作纪律, 工作评价)
6. grades.py    grades, the spot-check cap, the 20% cap with ties, the recall list, and
                the one summary of counts every page and export shows
7. results.py   stored results: finalise (with input digests), unlock, restatement, staff
                decisions (ties, one person in two villages), recompute, a secretary's own
8. exports.py   the downloads, from the same functions as the pages

The freeze check every other service calls lives outside this package
(services/freeze.py), so that no service ever needs to import scoring.
This file imports nothing, on purpose.
"""
