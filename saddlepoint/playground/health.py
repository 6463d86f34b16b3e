"""The training loop's health warnings, told in the page's words.

The loop's HealthMonitor (train/diagnostics.py) words its remedies for the command line:
`--objective non_saturating`, `optim_g.lr`, `train.k=1`. The page has menus and fields for
these instead, and checks every LOG_EVERY iterations in place of log lines, so each warning it shows
is the monitor's own message with those names replaced by what the page calls them. Remedies
the page cannot apply (an EMA of G) are left out.
"""

from __future__ import annotations

from saddlepoint.playground.settings import LOG_EVERY
from saddlepoint.train.diagnostics import HealthWarning

# (the command line's words, the page's): applied in order
IN_PAGE_WORDS: tuple[tuple[str, str], ...] = (
    ("use --objective non_saturating", "choose the objective non_saturating"),
    (
        "--objective wasserstein --set objective.penalty=gradient",
        "the objective wasserstein with the gradient penalty",
    ),
    ("generator learning rate (optim_g.lr)", "G's learning rate"),
    (" an EMA of G (train.ema_beta=0.999),", ""),
    ("train.k=1, a lower optim_d.lr", "k = 1, a lower D's learning rate"),
    ("log lines", f"health checks (one every {LOG_EVERY} iterations)"),
)


def in_page_words(message: str) -> str:
    """A monitor's message with the command line's names replaced by the page's controls."""
    for cli, page in IN_PAGE_WORDS:
        message = message.replace(cli, page)
    return message


def page_warning(w: HealthWarning) -> dict:
    """What the page lists for a warning: its code, iteration and message in the page's words."""
    return {**w.to_dict(), "message": in_page_words(w.message)}
