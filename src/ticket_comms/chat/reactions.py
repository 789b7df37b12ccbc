"""What a reaction may be: exactly one emoji (one grapheme cluster, as a user sees one symbol).

A grapheme is found with the `regex` module's `\\X` (Unicode's extended grapheme clusters, kept current
with each Unicode release), and whether it is an emoji with the `emoji` package's data (the emoji
sequences of Unicode TS #51: skin tones, flags, keycaps and ZWJ families count as one).
"""

from __future__ import annotations

import regex

from ticket_comms.errors import ValidationFailed

# A message shows its reactions as a row of chips; past this many kinds the row is noise (Slack caps at 50,
# most support tools far lower). Adding to an existing kind is always allowed.
MAX_DISTINCT_REACTIONS = 20
# The longest emoji sequences (ZWJ families with skin tones) are about a dozen code points.
MAX_EMOJI_CODE_POINTS = 32

_GRAPHEME = regex.compile(r"\X")


class NotAnEmoji(ValidationFailed):
    """A reaction is a single emoji."""

    code = "invalid_reaction"


class TooManyReactions(ValidationFailed):
    """This message has as many kinds of reaction as it can take."""

    code = "too_many_reactions"


def checked_emoji(text: str) -> str:
    """`text` when it is exactly one emoji; NotAnEmoji otherwise."""
    if not text or len(text) > MAX_EMOJI_CODE_POINTS:
        raise NotAnEmoji()
    import emoji as emoji_data  # on first use: its data is ~3 MB that a server nobody reacts on never needs

    if len(_GRAPHEME.findall(text)) != 1 or not emoji_data.is_emoji(text):
        raise NotAnEmoji()
    return text
