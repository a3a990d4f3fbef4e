"""Ideas: a suggestion box for customers and employees — submit, vote once per person, comment; statuses (new,
under review, planned, done, declined) with an answer the author is told of; rewards; near-duplicates found by
the text engine and merged with their votes kept; each idea linked to the factor it addresses, so the action
matrix shows what people propose for each factor. See docs/ideas.md.

- :mod:`centric.ideas.box`: the writes (one transaction each);
- :mod:`centric.ideas.views`: the list, one idea, ideas per factor;
- :mod:`centric.ideas.duplicates`: merge proposals;
- :mod:`centric.ideas.suggest`: the factor an idea addresses;
- :mod:`centric.ideas.imports`: ideas gathered elsewhere, loaded through the ingest;
- :mod:`centric.ideas.notify`: the author's e-mail;
- :mod:`centric.ideas.programme`: the programme's figures (report, web page).
"""

from __future__ import annotations

from .box import IdeaError, change_status, comment, merge, reward, submit, vote
from .duplicates import Pair, pairs, proposals
from .programme import Programme, programme
from .views import by_factor, detail, frame

__all__ = ["IdeaError", "Pair", "Programme", "by_factor", "change_status", "comment", "detail", "frame", "merge",
           "pairs", "programme", "proposals", "reward", "submit", "vote"]
